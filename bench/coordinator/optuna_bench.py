#!/usr/bin/python3
"""Optuna 3.1 with its SQLite storage doing what caviar-loadgen does.

N worker processes share one SQLite file; each runs trials of a trivial
objective (suggest the same three parameters, report one intermediate
value, return) until the study has the requested number of trials. Prints
one JSON line like caviar-loadgen's.

  /usr/bin/python3 bench/coordinator/optuna_bench.py --workers 8 --trials 400
"""
import argparse
import json
import math
import multiprocessing
import os
import tempfile
import time

import optuna


def objective(trial):
    lr = trial.suggest_float("learning_rate", 1e-4, 1.0, log=True)
    trial.suggest_int("units", 50, 100)
    trial.suggest_categorical("optimizer", ["adam", "momentum"])
    score = -(math.log10(lr) + 2) ** 2
    trial.report(score, 1)
    return score


def rdb(url):
    # SQLite's default 5 s lock timeout makes workers die with "database is
    # locked" under 8 processes; wait longer so every trial is counted.
    return optuna.storages.RDBStorage(
        url, engine_kwargs={"connect_args": {"timeout": 120}})


def work(url, name, n, ready):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = rdb(url)
    study = optuna.load_study(study_name=name, storage=storage,
                              sampler=optuna.samplers.RandomSampler())
    ready.wait()  # Start the clock once every worker has imported and connected.
    study.optimize(objective, n_trials=n)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--trials", type=int, default=400)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = "sqlite:///" + os.path.join(tmp, "optuna.db")
        name = "bench"
        storage = rdb(url)
        optuna.create_study(study_name=name, storage=storage, direction="maximize")
        per_worker = [args.trials // args.workers] * args.workers
        for i in range(args.trials % args.workers):
            per_worker[i] += 1
        ready = multiprocessing.Barrier(args.workers + 1)
        procs = [multiprocessing.Process(target=work, args=(url, name, n, ready))
                 for n in per_worker]
        for p in procs:
            p.start()
        ready.wait()
        start = time.monotonic()
        for p in procs:
            p.join()
        seconds = time.monotonic() - start
        study = optuna.load_study(study_name=name, storage=storage)
        done = sum(1 for t in study.trials
                   if t.state == optuna.trial.TrialState.COMPLETE)
    print(json.dumps({"system": "optuna-sqlite", "version": optuna.__version__,
                      "workers": args.workers, "trials": args.trials,
                      "finished": done, "seconds": round(seconds, 3),
                      "trials_per_second": round(done / seconds, 1)}))


if __name__ == "__main__":
    main()
