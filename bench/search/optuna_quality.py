#!/usr/bin/python3
"""Optuna's side of the search-quality benchmark (see search_quality.cc).

Runs Optuna 3.1's TPESampler (univariate, multivariate=True, and
constant_liar=True with 4 and 16 workers) on the same test functions, budget
and seeds as search_quality, and prints records in the same tab-separated
format:
  seed   FUNCTION SAMPLER PARALLEL SEED REGRET
  time   FUNCTION SAMPLER PARALLEL MICROSECONDS_PER_SUGGESTION
Parallel runs keep PARALLEL trials asked but not told and tell the oldest
first (TPESampler(constant_liar=True) sees the others as running).

Usage: /usr/bin/python3 optuna_quality.py [--seeds N] [--first-seed S] [--max-trials N]
          [--only LABEL] [--functions NAME,NAME]
"""
import argparse
import math
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    u = x[1] - b * x[0] ** 2 + c * x[0] - 6
    return u * u + 10 * (1 - t) * math.cos(x[0]) + 10


HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN6_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
               [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
               [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
               [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
HARTMANN3_A = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]]
HARTMANN3_P = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470],
               [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]


def hartmann(a, p):
    def f(x):
        total = 0.0
        for i in range(4):
            inner = sum(a[i][j] * (x[j] - p[i][j]) ** 2 for j in range(len(x)))
            total += HARTMANN_ALPHA[i] * math.exp(-inner)
        return -total
    return f


def alpha_epsilon(x):
    a, e = math.log10(x[0]) + 1.7, math.log10(x[1]) + 8
    return a * a + 0.001 * e * e


def six_hump_camel(x):
    a, b = x
    return (4 - 2.1 * a * a + a ** 4 / 3) * a * a + a * b + (-4 + 4 * b * b) * b * b


def goldstein_price(x):
    a, b = x
    s, t = a + b + 1, 2 * a - 3 * b
    return ((1 + s * s * (19 - 14 * a + 3 * a * a - 14 * b + 6 * a * b + 3 * b * b)) *
            (30 + t * t * (18 - 32 * a + 12 * a * a + 48 * b - 36 * a * b + 27 * b * b)))


def rastrigin(x):
    return 10.0 * len(x) + sum(v * v - 10 * math.cos(2 * math.pi * v) for v in x)


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    n = len(x)
    sq = sum(v * v for v in x) / n
    cs = sum(math.cos(2 * math.pi * v) for v in x) / n
    return -20 * math.exp(-0.2 * math.sqrt(sq)) - math.exp(cs) + 20 + math.e


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    s = math.sin(math.pi * w[0]) ** 2
    for i in range(len(x) - 1):
        s += (w[i] - 1) ** 2 * (1 + 10 * math.sin(math.pi * w[i] + 1) ** 2)
    return s + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


def styblinski_tang(x):
    return sum(v ** 4 - 16 * v * v + 5 * v for v in x) / 2


def well(q, width):
    return 1 - math.exp(-q / width)


def mixed_mlp(x):
    optimizer, layers, lr, beta, units = x
    a, b, u = math.log10(lr), math.log10(1 - beta), math.log2(units)
    shape = 0.01 * (layers - 4) ** 2 + 0.01 * (u - 8) ** 2
    if optimizer == 0:  # sgd
        return shape + 0.30 + 0.02 * (a + 1.5) ** 2
    if optimizer == 1:  # momentum
        return shape + 0.10 + well((a + 2) ** 2, 0.8) + 0.05 * (b + 1.5) ** 2
    if optimizer == 2:  # rmsprop
        return shape + 0.15 + well((a + 3.5) ** 2, 0.5) + 0.05 * (b + 2) ** 2
    return shape + well((a + 3) ** 2, 0.4) + 0.1 * (b + 2.5) ** 2  # adam


def mixed_cnn(x):
    optimizer, dropout, wd, lr, beta, batch = x
    w, a, b = math.log10(wd), math.log10(lr), math.log10(1 - beta)
    shape = 0.3 * (dropout - 0.3) ** 2 + 0.01 * (batch - 6) ** 2
    if optimizer == 0:  # adamw
        return (shape + well((a + 3.3) ** 2 + 0.2 * (w + 2) ** 2, 0.5) +
                0.08 * (b + 2) ** 2)
    if optimizer == 1:  # sgd
        return shape + 0.25 + 0.02 * (a + 1) ** 2 + 0.01 * (w + 4) ** 2
    return shape + 0.12 + well((a + 3) ** 2, 0.5) + 0.08 * (b + 2) ** 2  # adam


def box(d, lo, hi):
    return [(f"x{i + 1}", "float", lo, hi, False) for i in range(d)]


# Parameters: (name, "float"|"int", low, high, log), (name, "cat", values),
# (name, "log1m", low, high): a value in [low, high] drawn as 1 - v with v on
# a log scale (caviar's LOG1M). f takes values, category indices for "cat".
FUNCTIONS = [
    ("alpha_epsilon", [("learning_rate", "float", 1e-4, 1.0, True),
                       ("epsilon", "float", 1e-10, 1e-6, True)], alpha_epsilon, 0.0),
    ("branin", [("x1", "float", -5.0, 10.0, False), ("x2", "float", 0.0, 15.0, False)],
     branin, 0.397887357729739),
    ("hartmann6", box(6, 0.0, 1.0), hartmann(HARTMANN6_A, HARTMANN6_P), -3.32236801141551),
    ("rosenbrock4", box(4, -5.0, 10.0), rosenbrock, 0.0),
    ("six_hump_camel", [("x1", "float", -3.0, 3.0, False), ("x2", "float", -2.0, 2.0, False)],
     six_hump_camel, -1.0316284534898774),
    ("mixed_mlp", [("optimizer", "cat", ["sgd", "momentum", "rmsprop", "adam"]),
                   ("layers", "int", 1, 8, False),
                   ("learning_rate", "float", 1e-5, 1.0, True),
                   ("beta", "log1m", 0.8, 0.9999),
                   ("units", "int", 16, 1024, True)], mixed_mlp, 0.0),
    # Held out (bench/search/README.md).
    ("goldstein_price", box(2, -2.0, 2.0), goldstein_price, 3.0),
    ("hartmann3", box(3, 0.0, 1.0), hartmann(HARTMANN3_A, HARTMANN3_P), -3.86278214782076),
    ("rastrigin3", box(3, -5.12, 5.12), rastrigin, 0.0),
    ("ackley5", box(5, -32.768, 32.768), ackley, 0.0),
    ("levy6", box(6, -10.0, 10.0), levy, 0.0),
    ("styblinski_tang8", box(8, -5.0, 5.0), styblinski_tang, -39.16616570377142 * 8),
    ("mixed_cnn", [("optimizer", "cat", ["adamw", "sgd", "adam"]),
                   ("dropout", "float", 0.0, 0.8, False),
                   ("weight_decay", "float", 1e-6, 1e-1, True),
                   ("learning_rate", "float", 1e-5, 1.0, True),
                   ("beta", "log1m", 0.8, 0.9999),
                   ("batch_log2", "int", 4, 9, False)], mixed_cnn, 0.0),
]

CONFIGS = [  # label, parallel, sampler factory
    ("optuna_tpe", 1, lambda seed: optuna.samplers.TPESampler(seed=seed)),
    ("optuna_tpe_multivariate", 1,
     lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True)),
    ("optuna_tpe", 4, lambda seed: optuna.samplers.TPESampler(seed=seed, constant_liar=True)),
    ("optuna_tpe", 16, lambda seed: optuna.samplers.TPESampler(seed=seed, constant_liar=True)),
]


def suggest(trial, param):
    name, kind = param[0], param[1]
    if kind == "cat":
        return param[2].index(trial.suggest_categorical(name, param[2]))
    if kind == "int":
        return trial.suggest_int(name, param[2], param[3], log=param[4])
    if kind == "log1m":
        return 1 - trial.suggest_float("one_minus_" + name, 1 - param[3], 1 - param[2],
                                       log=True)
    return trial.suggest_float(name, param[2], param[3], log=param[4])


def run(params, f, sampler, max_trials, parallel):
    study = optuna.create_study(sampler=sampler, direction="minimize")
    best, pending, suggest_seconds = math.inf, [], 0.0

    def tell_oldest():
        trial, x = pending.pop(0)
        value = f(x)
        study.tell(trial, value)
        return value

    for _ in range(max_trials):
        if len(pending) >= parallel:
            best = min(best, tell_oldest())
        start = time.perf_counter()
        trial = study.ask()
        x = [suggest(trial, p) for p in params]
        suggest_seconds += time.perf_counter() - start
        pending.append((trial, x))
    while pending:
        best = min(best, tell_oldest())
    return best, suggest_seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-trials", type=int, default=50)
    parser.add_argument("--only", default="")
    parser.add_argument("--functions", default="")
    args = parser.parse_args()
    only_functions = set(filter(None, args.functions.split(",")))
    for name, params, f, minimum in FUNCTIONS:
        if only_functions and name not in only_functions:
            continue
        for label, parallel, make in CONFIGS:
            if args.only and label != args.only:
                continue
            seconds = 0.0
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                best, s = run(params, f, make(seed), args.max_trials, parallel)
                seconds += s
                print(f"seed\t{name}\t{label}\t{parallel}\t{seed}\t{max(best - minimum, 0.0):.9g}")
            us = 1e6 * seconds / (args.seeds * args.max_trials)
            print(f"time\t{name}\t{label}\t{parallel}\t{us:.3f}", flush=True)


if __name__ == "__main__":
    main()
