#!/usr/bin/python3
"""Time to accuracy on Fashion-MNIST, 2 cores: wall time from start until any
trial's dev accuracy reaches --target (0.90), for

  caviar: a coordinator and 2 caviar-worker processes running the bundled
          default study, examples/fashion_mnist.yaml with its full settings
          (all 55,000 training images, 20 epochs, 60 trials; README), and
  optuna: Optuna 3.1's TPESampler (default MedianPruner) driving the same
          network, search space, scales and dev split in PyTorch
          (torch_trial.py), 2 worker processes sharing one journal file,

each --runs times, alternating (caviar, optuna, caviar, ...) so both see the
same machine. Start-up counts (a coordinator's, Python's and torch's import,
each side's data loading). Prints every run and the medians.

  /usr/bin/python3 bench/time_to_accuracy/run.py --build-dir build [--runs 3]
"""
import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def bench_env(**extra):
    """The environment of both sides' processes: each on the machine's best.
    OpenBLAS on the kernels it picks itself (some machines set
    OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for older builds' sake; this
    project's sets AVX2 kernels on an AVX-512 CPU), and glibc's malloc keeping
    freed memory: PyTorch allocates every step's tensors anew, glibc returns
    each large block to the system when it is freed, and the page faults of
    taking it back cost PyTorch 4-5x its speed on this virtual machine
    (bench/trainer/README.md). caviar's trainer allocates nothing per step."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(MALLOC_MMAP_THRESHOLD_="4294967296", MALLOC_TRIM_THRESHOLD_="4294967296",
               MALLOC_TOP_PAD_="268435456")
    env.update(extra)
    return env


def first_hit(cli, env, study, target):
    """(unix time, dev accuracy) of the study's first measurement at or above
    target, or (None, best dev accuracy so far). The time is the measurement's
    own (its trial's start plus the worker's elapsed_seconds when it was
    taken), so how often this is polled does not change the figure."""
    out = subprocess.run([cli, "export", study, "--format", "jsonl"], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None, None
    hit, best = None, None
    for line in out.stdout.splitlines():
        trial = json.loads(line)
        started = trial.get("start_time") or trial.get("startTime")
        for m in trial.get("measurements", []):
            value = m.get("metrics", {}).get("dev_accuracy")
            if value is None:
                continue
            best = value if best is None else max(best, value)
            if value >= target and started:
                when = parse_time(started) + float(m.get("elapsed_seconds",
                                                         m.get("elapsedSeconds", 0)))
                if hit is None or when < hit[0]:
                    hit = (when, f"{value:.4f} (trial {trial.get('id')}, step {m.get('step')})")
    return hit if hit else (None, best)


def parse_time(text):
    """Unix seconds of an RFC 3339 UTC timestamp with optional fraction."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return seconds + (float("0." + fraction) if fraction else 0.0)


def stop(processes):
    for p in processes:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    for p in processes:
        p.wait()


def run_caviar(a, port, work):
    binary = lambda path: os.path.join(a.build_dir, path)
    env = bench_env(CAVIAR_COORDINATOR=f"127.0.0.1:{port}")
    logs = open(os.path.join(work, "caviar.log"), "w")
    start = time.time()
    processes = [subprocess.Popen(
        [binary("server/caviar-coordinator"), "--listen", f"127.0.0.1:{port}",
         "--db", os.path.join(work, "caviar.db")],
        stdout=logs, stderr=subprocess.STDOUT, start_new_session=True, env=env)]
    try:
        cli = binary("client/caviar")
        sets = [f"--set=trainer.dataset.train_limit={a.train_limit}",
                f"--set=trainer.epochs={a.epochs}", f"--set=budget.max_trials={a.trials}"]
        while True:  # The coordinator takes a moment to listen.
            submit = subprocess.run([cli, "submit", os.path.join(ROOT, "examples/fashion_mnist.yaml"),
                                     *sets], env=env, capture_output=True, text=True)
            if submit.returncode == 0:
                break
            if time.time() - start > 30:
                raise RuntimeError(f"caviar submit: {submit.stderr}")
            time.sleep(0.1)
        study = submit.stdout.strip()
        for i in range(2):
            processes.append(subprocess.Popen(
                [binary("worker/caviar-worker"), "--coordinator", f"127.0.0.1:{port}",
                 "--id", f"tta-{i}"], env=env,
                stdout=logs, stderr=subprocess.STDOUT, start_new_session=True))
        best = None
        while time.time() - start < a.timeout:
            when, best = first_hit(cli, env, study, a.target)
            if when is not None:
                return when - start, best
            time.sleep(a.poll)
        return None, best
    finally:
        stop(processes)


def run_optuna(a, work, seed):
    hit = os.path.join(work, "optuna.hit")
    logs = open(os.path.join(work, "optuna.log"), "w")
    start = time.time()
    processes = [subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "optuna_worker.py"),
         "--journal", os.path.join(work, "optuna.journal"), "--hit", hit,
         "--target", str(a.target), "--epochs", str(a.epochs),
         "--trials", str(a.trials // 2), "--train-limit", str(a.train_limit),
         "--seed", str(seed * 10 + i)],
        stdout=logs, stderr=subprocess.STDOUT, start_new_session=True,
        env=bench_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
        for i in range(2)]
    try:
        while time.time() - start < a.timeout:
            if os.path.exists(hit):
                first = open(hit).read().split()
                return float(first[0]) - start, float(first[3])
            if all(p.poll() is not None for p in processes):
                return None, None
            time.sleep(0.2)
        return None, None
    finally:
        stop(processes)


def main():
    # SIGTERM (timeout, kill) unwinds like Ctrl-C, so each run's `finally`
    # kills its coordinator and workers (they have sessions of their own).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default="build")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--target", type=float, default=0.90)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--train-limit", type=int, default=0, help="0 = all 55,000 images")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    p.add_argument("--poll", type=float, default=1.0,
                   help="caviar: seconds between exports (the time is the measurement's own)")
    p.add_argument("--port", type=int, default=50391)
    p.add_argument("--only", choices=["caviar", "optuna"])
    a = p.parse_args()
    a.build_dir = os.path.abspath(a.build_dir)
    times = {"caviar": [], "optuna": []}
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    for run in range(1, a.runs + 1):
        for peer in ("caviar", "optuna"):
            if a.only and peer != a.only:
                continue
            with tempfile.TemporaryDirectory(prefix=f"tta-{peer}-") as work:
                load = os.getloadavg()[0]
                seconds, accuracy = (run_caviar(a, a.port + run, work) if peer == "caviar"
                                     else run_optuna(a, work, run))
            times[peer].append(seconds)
            shown = "no trial reached the target" if seconds is None else f"{seconds:8.1f} s"
            print(f"run {run} {peer:6s} {shown}  dev_accuracy {accuracy}  "
                  f"(load average {load:.2f} at start)", flush=True)
    medians = {}
    for peer, values in times.items():
        done = [v for v in values if v is not None]
        if values:
            medians[peer] = statistics.median(done) if len(done) == len(values) else None
            print(f"{peer:6s} median {medians[peer]} s over {len(values)} runs "
                  f"({len(done)} reached {a.target})")
    if medians.get("caviar") and medians.get("optuna"):
        print(f"caviar / optuna = {medians['caviar'] / medians['optuna']:.3f} "
              f"(bar: at most 0.5)")


if __name__ == "__main__":
    main()
