#!/usr/bin/python3
"""Runs caviar's search-quality benchmark (search_quality) and Optuna's
(optuna_quality.py) on the same functions, budget and seeds, and prints the
tables of bench/search/README.md: median regret with quartiles per sampler,
A12 (Vargha-Delaney: the chance that caviar's run ends with a lower regret
than the other sampler's, ties counting half; 0.5 = no difference) of caviar
against each Optuna variant, and the bars of issue 13.

Usage:
  /usr/bin/python3 bench/search/compare.py --build-dir build [--seeds 30]
      [--first-seed 1] [--max-trials 50] [--functions NAME,NAME]
      [--optuna-records FILE]   (Optuna's records: read if the file exists,
                                 else run and written there; they do not
                                 change when caviar's samplers do)
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import optuna_quality  # noqa: E402  (the Python side of the functions)

HELD_OUT = ["goldstein_price", "hartmann3", "rastrigin3", "ackley5", "levy6",
            "styblinski_tang8", "mixed_cnn"]
LABELS = {  # (sampler, parallel) -> column
    ("random", 1): "caviar random",
    ("coarse_to_fine", 4): "caviar coarse_to_fine",
    ("tpe", 1): "caviar tpe",
    ("tpe", 4): "caviar tpe 4w",
    ("tpe", 16): "caviar tpe 16w",
    ("optuna_tpe", 1): "Optuna TPE",
    ("optuna_tpe_multivariate", 1): "Optuna TPE mv",
    ("optuna_tpe", 4): "Optuna CL 4w",
    ("optuna_tpe", 16): "Optuna CL 16w",
}
PAIRS = [  # ours, theirs: the bars of issue 13 are the first, third and fifth
    ("caviar coarse_to_fine", "Optuna TPE"),
    ("caviar coarse_to_fine", "Optuna TPE mv"),
    ("caviar tpe", "Optuna TPE"),
    ("caviar tpe", "Optuna TPE mv"),
    ("caviar tpe 4w", "Optuna CL 4w"),
    ("caviar tpe 16w", "Optuna CL 16w"),
]


def parse(text, seeds, times):
    for line in text.splitlines():
        f = line.split("\t")
        if f[0] == "seed":
            key = (f[1], LABELS[(f[2], int(f[3]))])
            seeds.setdefault(key, {})[int(f[4])] = float(f[5])
        elif f[0] == "time":
            times[(f[1], LABELS[(f[2], int(f[3]))])] = float(f[4])


def quartiles(values):
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[1], q[0], q[2]


def a12(ours, theirs):
    """P(ours < theirs) + P(ours == theirs) / 2 over all pairs (lower regret wins)."""
    wins = sum((a < b) + 0.5 * (a == b) for a in ours for b in theirs)
    return wins / (len(ours) * len(theirs))


def check_functions(caviar):
    """The C++ and Python functions agree at search_quality's probe points."""
    out = subprocess.run([caviar, "--probe"], check=True, capture_output=True,
                         text=True).stdout
    by_name = {name: f for name, _, f, _ in optuna_quality.FUNCTIONS}
    for line in out.splitlines():
        f = line.split("\t")
        x = [float(v) for v in f[2:-1]]
        ours, theirs = float(f[-1]), by_name[f[1]](x)
        if abs(ours - theirs) > 1e-9 * max(1.0, abs(ours)):
            sys.exit(f"{f[1]}: C++ gives {ours}, Python {theirs} at {x}")


def fmt(v):
    return f"{v:.3g}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-trials", type=int, default=50)
    parser.add_argument("--functions", default="")
    parser.add_argument("--optuna-records", default="")
    args = parser.parse_args()
    common = ["--seeds", str(args.seeds), "--first-seed", str(args.first_seed),
              "--max-trials", str(args.max_trials)]
    if args.functions:
        common += ["--functions", args.functions]
    caviar = os.path.join(args.build_dir, "bench", "search", "search_quality")
    check_functions(caviar)
    seeds, times = {}, {}
    start = time.time()
    parse(subprocess.run([caviar] + common, check=True, capture_output=True, text=True).stdout,
          seeds, times)
    caviar_seconds = time.time() - start
    start = time.time()
    if args.optuna_records and os.path.exists(args.optuna_records):
        with open(args.optuna_records) as f:
            optuna_text = f.read()
    else:
        optuna_text = subprocess.run(
            ["/usr/bin/python3", os.path.join(HERE, "optuna_quality.py")] + common,
            check=True, capture_output=True, text=True).stdout
        if args.optuna_records:
            with open(args.optuna_records, "w") as f:
                f.write(optuna_text)
    optuna_seconds = time.time() - start
    parse(optuna_text, seeds, times)

    chosen = set(filter(None, args.functions.split(",")))
    functions = [name for name, _, _, _ in optuna_quality.FUNCTIONS
                 if any(k[0] == name for k in seeds) and (not chosen or name in chosen)]
    wanted = range(args.first_seed, args.first_seed + args.seeds)

    def values(fn, label):
        runs = seeds.get((fn, label), {})
        return [runs[s] for s in wanted if s in runs]

    labels = [l for l in LABELS.values() if any(k[1] == l for k in seeds)]
    print(f"Median regret at {args.max_trials} trials over seeds {args.first_seed}-"
          f"{args.first_seed + args.seeds - 1} (25th-75th percentile); "
          f"* = held-out function.\n")
    print("| function | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for fn in functions:
        cells = []
        for label in labels:
            v = values(fn, label)
            if len(v) < 2:
                cells.append("")
                continue
            med, q25, q75 = quartiles(v)
            cells.append(f"{fmt(med)} ({fmt(q25)}-{fmt(q75)})")
        star = "*" if fn in HELD_OUT else ""
        print(f"| {fn}{star} | " + " | ".join(cells) + " |")

    pairs = [(o, t) for o, t in PAIRS if o in labels and t in labels]
    print(f"\nA12 of caviar against Optuna (> 0.5: caviar ahead); "
          f"+ = caviar's median at or below Optuna's.\n")
    print("| function | " + " | ".join(f"{o} vs {t}" for o, t in pairs) + " |")
    print("|---|" + "---|" * len(pairs))
    passed = {p: [] for p in pairs}
    for fn in functions:
        cells = []
        for o, t in pairs:
            ours, theirs = values(fn, o), values(fn, t)
            if not ours or not theirs:
                cells.append("")
                continue
            ok = statistics.median(ours) <= statistics.median(theirs)
            if ok:
                passed[(o, t)].append(fn)
            cells.append(f"{a12(ours, theirs):.2f} {'+' if ok else '-'}")
        star = "*" if fn in HELD_OUT else ""
        print(f"| {fn}{star} | " + " | ".join(cells) + " |")

    print("\n| bar (median at or below) | all functions | held-out functions |")
    print("|---|---|---|")
    held = [fn for fn in functions if fn in HELD_OUT]
    for o, t in pairs:
        n_all = len(passed[(o, t)])
        n_held = len([fn for fn in passed[(o, t)] if fn in HELD_OUT])
        print(f"| {o} vs {t} | {n_all}/{len(functions)} ({100 * n_all / len(functions):.0f}%)"
              f" | {n_held}/{len(held)} |")
    print("\n| sampler | us/suggestion (mean over functions) |\n|---|---|")
    for label in labels:
        t = [times[(fn, label)] for fn in functions if (fn, label) in times]
        if t:
            print(f"| {label} | {statistics.mean(t):.0f} |")
    print(f"\nWall time: caviar {caviar_seconds:.1f} s, Optuna {optuna_seconds:.1f} s"
          f"{' (records read from a file)' if args.optuna_records and optuna_seconds < 1 else ''}.")


if __name__ == "__main__":
    main()
