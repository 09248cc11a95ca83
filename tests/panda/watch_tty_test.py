#!/usr/bin/python3
"""`caviar watch` in a pseudo-terminal (redraw mode) and through a pipe (plain
mode), against a real coordinator and a real worker running a panda study of
tests/panda/panda_command.py: the view comes up with a sparkline, a nudge
shows up as it happens, the coordinator is killed with SIGKILL and started
again on the same port and database, both watchers say "reconnecting...",
resync and keep going, and both exit 0 when the study ends. A third watcher,
`caviar watch --trial 1` through a pipe, follows the one trial the same way
and exits 0 when it finishes.

argv: CAVIAR CAVIAR_COORDINATOR CAVIAR_WORKER PANDA_COMMAND
"""
import fcntl
import os
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

CAVIAR, COORDINATOR, WORKER, COMMAND = sys.argv[1:5]
DEADLINE = time.monotonic() + 55
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return condition


class Output:
    """Everything a process wrote to a file descriptor, read in the background."""

    def __init__(self, fd):
        self.fd, self.data, self.lock = fd, b"", threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def text(self):
        with self.lock:
            return self.data.decode("utf-8", "replace")

    def wait_for(self, needle, seconds=20):
        end = min(time.monotonic() + seconds, DEADLINE)
        while time.monotonic() < end:
            if needle in self.text():
                return True
            time.sleep(0.05)
        return False


def start_coordinator(work, listen):
    port_file = os.path.join(work, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(work, "coordinator.log"), "ab")
    process = subprocess.Popen(
        [COORDINATOR, "--db", os.path.join(work, "caviar.db"), "--listen", listen,
         "--port-file", port_file], stdout=log, stderr=log)
    for _ in range(400):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return process, int(open(port_file).read())
        time.sleep(0.025)
    raise SystemExit("the coordinator did not start: " + open(log.name).read())


def caviar(address, *args):
    result = subprocess.run([CAVIAR, "--coordinator", address, *args],
                            capture_output=True, text=True, timeout=30)
    check(result.returncode == 0, f"caviar {' '.join(args)}: {result.stderr}")
    return result.stdout


def main():
    work = tempfile.mkdtemp(prefix="caviar-watch-")
    coordinator, port = start_coordinator(work, "127.0.0.1:0")
    address = f"127.0.0.1:{port}"
    spec = os.path.join(work, "watched.yaml")
    with open(spec, "w") as f:
        f.write(f"""name: watched
objective: {{metric: loss, goal: MINIMIZE}}
parameters:
  - name: lr
    double: {{min: 0.001, max: 1}}
    scale: LOG
algorithm: {{name: panda, options: {{start: {{lr: 0.1}}}}}}
budget: {{max_trials: 1}}
trial_policy: {{lease_seconds: 20, max_retries: 5}}
command:
  argv: [/usr/bin/python3, {COMMAND}, "36", "0.25"]
""")
    caviar(address, "submit", spec)
    worker = subprocess.Popen(
        [WORKER, "--coordinator", address, "--id", "w1", "--study", "watched"],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "worker.log"), "wb"))

    # Redraw mode: a terminal of 100x30.
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    tty_watch = subprocess.Popen([CAVIAR, "--coordinator", address, "watch", "watched"],
                                 stdin=slave, stdout=slave, stderr=slave,
                                 env=dict(os.environ, TERM="xterm"))
    os.close(slave)
    screen = Output(master)
    # Plain mode: stdout is a pipe.
    plain_watch = subprocess.Popen([CAVIAR, "--coordinator", address, "watch", "watched"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = Output(plain_watch.stdout.fileno())
    # One trial, plain mode: once the trial exists (the worker creates it
    # when it leases it; asked before, `watch --trial` says "not found" and
    # exits, as it should: CI's loaded machine once got there first).
    check(lines.wait_for("trial 1 ACTIVE"), "plain mode: the trial is leased")
    trial_watch = subprocess.Popen(
        [CAVIAR, "--coordinator", address, "watch", "--trial", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    trial_lines = Output(trial_watch.stdout.fileno())

    check(screen.wait_for("caviar watch watched"), "the terminal view came up")
    check(screen.wait_for("▁") or screen.wait_for("█"), "a sparkline is drawn")
    check(lines.wait_for("trial 1 step 3 loss="), "plain mode prints a line per point")
    check(trial_lines.wait_for("trial 1 step 3 loss="), "watch --trial prints its points")

    caviar(address, "nudge", "1", "--param", "lr=0.05")
    check(screen.wait_for("nudge 1 lr=0.05"), "the nudge shows on the terminal")
    check(lines.wait_for("trial 1 nudge 1 lr=0.05: given"), "plain mode: nudge given")
    check(lines.wait_for("trial 1 nudge 1 lr=0.05: applied at step"),
          "plain mode: nudge applied")
    check(trial_lines.wait_for("trial 1 nudge 1 lr=0.05: applied at step"),
          "watch --trial: nudge applied")

    coordinator.send_signal(signal.SIGKILL)
    coordinator.wait()
    check(screen.wait_for("reconnecting..."), "the terminal says reconnecting...")
    check(lines.wait_for("reconnecting..."), "plain mode says reconnecting...")
    time.sleep(0.5)
    coordinator, _ = start_coordinator(work, address)
    check(screen.wait_for("resynced"), "the terminal view resynced")
    check(lines.wait_for("resynced"), "plain mode resynced")
    check(trial_lines.wait_for("reconnecting..."), "watch --trial says reconnecting...")
    check(trial_lines.wait_for("resynced"), "watch --trial resynced")

    for name, watcher in (("terminal", tty_watch), ("plain", plain_watch),
                          ("--trial", trial_watch)):
        try:
            code = watcher.wait(timeout=max(1, DEADLINE - time.monotonic()))
        except subprocess.TimeoutExpired:
            watcher.kill()
            code = "still running"
        check(code == 0, f"{name} watch exits 0 when the study ends, got {code}")
    time.sleep(0.2)
    check("COMPLETED" in screen.text(), "the terminal shows the study COMPLETED")
    check("watched: COMPLETED" in lines.text(), "plain mode ends with the summary")
    check("\033[" not in lines.text(), "plain mode writes no escape sequences")
    after_restart = lines.text().split("resynced", 1)[-1]
    check(" step " in after_restart, "points keep coming after the restart")
    trial_after_restart = trial_lines.text().split("resynced", 1)[-1]
    check("trial 1 step " in trial_after_restart,
          "watch --trial: points keep coming after the restart")

    worker.terminate()
    worker.wait(timeout=10)
    coordinator.terminate()
    coordinator.wait()
    if failures or os.environ.get("WATCH_TEST_VERBOSE"):
        print("--- terminal ---\n" + screen.text()[-3000:])
        print("--- plain ---\n" + lines.text())
        print("--- plain, --trial 1 ---\n" + trial_lines.text())
        print("--- coordinator ---\n" + open(os.path.join(work, "coordinator.log")).read()[-3000:])
    if failures:
        sys.exit(1)
    print("ok:", len(lines.text().splitlines()), "plain lines")


main()
