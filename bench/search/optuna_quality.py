#!/usr/bin/python3
"""Optuna's side of the search-quality benchmark (see search_quality.cc).

Runs Optuna 3.1's RandomSampler and TPESampler on the same test functions,
budgets and seed count as search_quality, and prints records in the same
tab-separated format:
  curve  FUNCTION SAMPLER PARALLEL TRIAL MEDIAN Q25 Q75
  point  FUNCTION SAMPLER PARALLEL BUDGET MEDIAN Q25 Q75
  time   FUNCTION SAMPLER PARALLEL MICROSECONDS_PER_SUGGESTION
Parallel runs keep PARALLEL trials asked but not told, telling the oldest
first (TPESampler(constant_liar=True) sees the others as running).

Usage: /usr/bin/python3 optuna_quality.py [--seeds N] [--first-seed S] [--max-trials N]
                                          [--only LABEL]  (e.g. optuna_tpe)
"""
import argparse
import math
import time
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    u = x[1] - b * x[0] ** 2 + c * x[0] - 6
    return u * u + 10 * (1 - t) * math.cos(x[0]) + 10


HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
              [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
              [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
              [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j]) ** 2 for j in range(6))
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def alpha_epsilon(x):
    a, e = math.log10(x[0]) + 1.7, math.log10(x[1]) + 8
    return a * a + 0.001 * e * e


# name, [(param, low, high, log)], f, minimum
FUNCTIONS = [
    ("alpha_epsilon", [("learning_rate", 1e-4, 1.0, True), ("epsilon", 1e-10, 1e-6, True)],
     alpha_epsilon, 0.0),
    ("branin", [("x1", -5.0, 10.0, False), ("x2", 0.0, 15.0, False)], branin,
     0.397887357729739),
    ("hartmann6", [(f"x{i + 1}", 0.0, 1.0, False) for i in range(6)], hartmann6,
     -3.32236801141551),
]

CONFIGS = [  # label, parallel, sampler factory
    ("optuna_random", 1, lambda seed: optuna.samplers.RandomSampler(seed=seed)),
    ("optuna_tpe", 1, lambda seed: optuna.samplers.TPESampler(seed=seed)),
    ("optuna_tpe_multivariate", 1,
     lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True)),
    ("optuna_tpe", 4, lambda seed: optuna.samplers.TPESampler(seed=seed, constant_liar=True)),
]


def run(params, f, sampler, max_trials, parallel):
    study = optuna.create_study(sampler=sampler, direction="minimize")
    losses, pending, suggest_seconds = [], [], 0.0

    def tell_oldest():
        trial, x = pending.pop(0)
        value = f(x)
        study.tell(trial, value)
        losses.append((trial.number, value))

    for _ in range(max_trials):
        if len(pending) >= parallel:
            tell_oldest()
        start = time.perf_counter()
        trial = study.ask()
        x = [trial.suggest_float(name, low, high, log=log) for name, low, high, log in params]
        suggest_seconds += time.perf_counter() - start
        pending.append((trial, x))
    while pending:
        tell_oldest()
    losses.sort()
    return [v for _, v in losses], suggest_seconds


def quartiles(values):
    q25, med, q75 = np.percentile(values, [25, 50, 75])
    return med, q25, q75


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-trials", type=int, default=100)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    budgets = [b for b in (10, 25, 50, 100) if b <= args.max_trials]
    for name, params, f, minimum in FUNCTIONS:
        for label, parallel, make in CONFIGS:
            if args.only and label != args.only:
                continue
            curves, seconds = [], 0.0
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                losses, s = run(params, f, make(seed), args.max_trials, parallel)
                seconds += s
                best = np.minimum.accumulate(np.array(losses))
                curves.append(np.maximum(best - minimum, 0.0))
            curves = np.array(curves)
            for n in range(1, args.max_trials + 1):
                med, q25, q75 = quartiles(curves[:, n - 1])
                print(f"curve\t{name}\t{label}\t{parallel}\t{n}\t{med:.6g}\t{q25:.6g}\t{q75:.6g}")
            for b in budgets:
                med, q25, q75 = quartiles(curves[:, b - 1])
                print(f"point\t{name}\t{label}\t{parallel}\t{b}\t{med:.6g}\t{q25:.6g}\t{q75:.6g}")
            us = 1e6 * seconds / (args.seeds * args.max_trials)
            print(f"time\t{name}\t{label}\t{parallel}\t{us:.3f}", flush=True)


if __name__ == "__main__":
    main()
