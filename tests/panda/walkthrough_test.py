#!/usr/bin/python3
"""README "Panda mode walkthrough", run for real: exactly the `$ caviar ...`
commands of that section, in its order, against a real coordinator and
worker, with each "day" compressed to an epoch of examples/panda.yaml. Fails
if any command fails, if a command's output lacks what the README shows for
it, or if the README's commands differ from this list (so the README cannot
rot).

argv: SOURCE_DIR CAVIAR CAVIAR_COORDINATOR CAVIAR_WORKER
"""
import json
import os
import subprocess
import sys
import tempfile
import time

SOURCE, CAVIAR, COORDINATOR, WORKER = sys.argv[1:5]
START = time.monotonic()

# (command, what its output must contain, wait before it: a predicate on the
# trial) in the walkthrough's order.
def step_at_least(n, branch=None):
    def ready(trial):
        points = [m for m in trial.get("measurements", [])
                  if branch is None or m.get("branch", 0) == branch]
        return trial.get("state") == "ACTIVE" and points and points[-1]["step"] >= n
    return ready


def nudge_applied(nudge_id):
    def ready(trial):
        nudges = [n for n in trial.get("nudges", []) if n.get("id") == nudge_id]
        if not nudges or "applied_at_step" not in nudges[0]:
            return False
        points = trial.get("measurements", [])
        return points and points[-1]["step"] >= nudges[0]["applied_at_step"]
    return ready


def state_is(state):
    return lambda trial: trial.get("state") == state


WALKTHROUGH = [
    ("caviar submit examples/panda.yaml", "panda", None),
    ("caviar watch panda", None, None),  # In the background until the end.
    ("caviar trial 1", "learning_rate", step_at_least(1)),
    ("caviar nudge 1 --param learning_rate=0.01", "nudge queued", None),
    ("caviar trial 1", "#1 branch 0: learning_rate=0.01  applied at step", nudge_applied(1)),
    ("caviar rollback 1 --to-step 2 --set learning_rate=0.003 --set dropout=0.2",
     "branch 1", None),
    ("caviar pause 1", "", step_at_least(4, branch=1)),
    ("caviar trial 1", "PAUSED", state_is("PAUSED")),
    ("caviar resume 1", "", None),
    ("caviar wait panda", "COMPLETED", None),
    ("caviar trial 1", "SUCCEEDED", None),
]


def readme_commands():
    text = open(os.path.join(SOURCE, "README.md")).read()
    start = text.index("\n### Panda mode walkthrough\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end]
    return [line[2:].strip() for line in section.splitlines() if line.startswith("$ ")]


def run(command, env, work):
    argv = command.split()
    argv[0] = CAVIAR
    result = subprocess.run(argv, cwd=SOURCE, env=env, capture_output=True, text=True,
                            timeout=120)
    print(f"$ {command}\n{result.stdout}{result.stderr}", flush=True)
    if result.returncode != 0:
        raise SystemExit(f"FAIL: `{command}` exited {result.returncode}")
    return result.stdout


def trial(env):
    result = subprocess.run([CAVIAR, "trial", "1", "--format", "json"], env=env,
                            capture_output=True, text=True, timeout=30)
    return json.loads(result.stdout) if result.returncode == 0 else {}


def wait_until(ready, env, seconds=90):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ready(trial(env)):
            return
        time.sleep(0.1)
    raise SystemExit(f"FAIL: timed out waiting; trial is {trial(env)}")


def main():
    listed = readme_commands()
    expected = [command for command, _, _ in WALKTHROUGH]
    if listed != expected:
        raise SystemExit("FAIL: the README walkthrough's commands differ from this test's:\n"
                         f"README: {listed}\ntest:   {expected}")
    work = tempfile.mkdtemp(prefix="caviar-walkthrough-")
    port_file = os.path.join(work, "port")
    log = open(os.path.join(work, "coordinator.log"), "wb")
    coordinator = subprocess.Popen(
        [COORDINATOR, "--db", os.path.join(work, "caviar.db"), "--listen", "127.0.0.1:0",
         "--port-file", port_file], stdout=log, stderr=log)
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        time.sleep(0.025)
    address = "127.0.0.1:" + open(port_file).read().strip()
    env = dict(os.environ, CAVIAR_COORDINATOR=address)
    worker = None
    watch = None
    try:
        for command, shows, before in WALKTHROUGH:
            if before is not None:
                wait_until(before, env)
            if command.startswith("caviar watch"):
                watch = subprocess.Popen([CAVIAR, *command.split()[1:]], env=env,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True)
                continue
            out = run(command, env, work)
            if shows and shows not in out:
                raise SystemExit(f"FAIL: `{command}` does not show {shows!r}")
            if command.startswith("caviar submit"):
                worker = subprocess.Popen(
                    [WORKER, "--coordinator", address, "--study", "panda"],
                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "worker.log"), "wb"))
        out, _ = watch.communicate(timeout=30)
        print("$ caviar watch panda  (not a terminal: one line per event)\n" + out)
        if watch.returncode != 0:
            raise SystemExit(f"FAIL: caviar watch exited {watch.returncode}")
        for needed in ("nudge 1 learning_rate=0.01: applied at step", "rolled back to step 2",
                       "PAUSED", "panda: COMPLETED"):
            if needed not in out:
                raise SystemExit(f"FAIL: caviar watch never showed {needed!r}")
    finally:
        for process in (watch, worker, coordinator):
            if process is not None and process.poll() is None:
                process.kill()
    print(f"ok: the walkthrough ran in {time.monotonic() - START:.1f} s")


main()
