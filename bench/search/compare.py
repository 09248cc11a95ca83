#!/usr/bin/python3
"""Runs caviar's search-quality benchmark and Optuna's in the same run, then
prints the median-regret table (markdown), checks the bars of issue 3, and
writes an SVG plot of median regret vs trials.

Usage:
  /usr/bin/python3 bench/search/compare.py --build-dir build [--seeds 30]
      [--first-seed 1] [--max-trials 100] [--svg bench/search/regret.svg]
"""
import argparse
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUDGETS = [10, 25, 50, 100]
LABELS = {  # (sampler, parallel) -> label in the table and plot
    ("grid", 1): "caviar grid",
    ("random", 1): "caviar random",
    ("quasi_random", 1): "caviar quasi_random",
    ("coarse_to_fine", 4): "caviar coarse_to_fine (4 workers)",
    ("tpe", 1): "caviar tpe",
    ("tpe", 4): "caviar tpe (4 workers)",
    ("optuna_random", 1): "Optuna RandomSampler",
    ("optuna_tpe", 1): "Optuna TPESampler",
    ("optuna_tpe_multivariate", 1): "Optuna TPESampler(multivariate)",
    ("optuna_tpe", 4): "Optuna TPESampler(constant_liar) (4 workers)",
}
COLORS = {
    "caviar grid": "#999999", "caviar random": "#1f77b4", "caviar quasi_random": "#17becf",
    "caviar coarse_to_fine (4 workers)": "#2ca02c", "caviar tpe": "#d62728",
    "caviar tpe (4 workers)": "#ff7f0e", "Optuna RandomSampler": "#9467bd",
    "Optuna TPESampler": "#000000", "Optuna TPESampler(multivariate)": "#8c564b",
    "Optuna TPESampler(constant_liar) (4 workers)": "#e377c2",
}


def parse(text, records):
    for line in text.splitlines():
        f = line.split("\t")
        key = (f[1], LABELS[(f[2], int(f[3]))])
        if f[0] == "curve":
            records["curve"].setdefault(key, []).append((int(f[4]), float(f[5])))
        elif f[0] == "point":
            records["point"][key + (int(f[4]),)] = (float(f[5]), float(f[6]), float(f[7]))
        elif f[0] == "time":
            records["time"][key] = float(f[4])


def svg_plot(records, functions, path):
    w, h, pad = 330, 260, 45
    panels = len(functions)
    labels = [l for l in LABELS.values() if any(k[1] == l for k in records["curve"])]
    width, height = panels * w + 20, h + 30 + 18 * ((len(labels) + 1) // 2)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for p, fn in enumerate(functions):
        x0, y0 = p * w + pad, 20
        pw, ph = w - pad - 10, h - 60
        curves = {k[1]: v for k, v in records["curve"].items() if k[0] == fn}
        values = [r for c in curves.values() for _, r in c if r > 0]
        lo = math.floor(math.log10(min(values)))
        hi = math.ceil(math.log10(max(values)))
        n_max = max(n for c in curves.values() for n, _ in c)

        def xy(n, r):
            r = max(r, 10 ** lo)
            return (x0 + pw * (n - 1) / (n_max - 1),
                    y0 + ph * (hi - math.log10(r)) / (hi - lo))

        out.append(f'<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" '
                   f'stroke="#444"/>')
        out.append(f'<text x="{x0 + pw / 2}" y="{y0 - 6}" text-anchor="middle" '
                   f'font-weight="bold">{fn}</text>')
        for e in range(lo, hi + 1):
            _, y = xy(1, 10 ** e)
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + pw}" y2="{y:.1f}" '
                       f'stroke="#eee"/>')
            out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
        for n in [1] + [b for b in BUDGETS if b <= n_max]:
            x, _ = xy(n, 1)
            out.append(f'<text x="{x:.1f}" y="{y0 + ph + 14}" text-anchor="middle">{n}</text>')
        out.append(f'<text x="{x0 + pw / 2}" y="{y0 + ph + 30}" text-anchor="middle">'
                   f'trials</text>')
        if p == 0:
            out.append(f'<text x="12" y="{y0 + ph / 2}" transform="rotate(-90 12 '
                       f'{y0 + ph / 2})" text-anchor="middle">median regret</text>')
        for label in labels:
            if label not in curves:
                continue
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(n, r) for n, r in curves[label]))
            dash = ' stroke-dasharray="5,3"' if label.startswith("Optuna") else ""
            out.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[label]}" '
                       f'stroke-width="1.6"{dash}/>')
    for i, label in enumerate(labels):
        x, y = 20 + (i % 2) * 480, h + 20 + (i // 2) * 18
        dash = ' stroke-dasharray="5,3"' if label.startswith("Optuna") else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 30}" y2="{y}" stroke="{COLORS[label]}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{x + 36}" y="{y + 4}">{label}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-trials", type=int, default=100)
    parser.add_argument("--svg", default=os.path.join(HERE, "regret.svg"))
    args = parser.parse_args()
    common = ["--seeds", str(args.seeds), "--first-seed", str(args.first_seed),
              "--max-trials", str(args.max_trials)]
    caviar = os.path.join(args.build_dir, "bench", "search", "search_quality")
    records = {"curve": {}, "point": {}, "time": {}}
    start = time.time()
    parse(subprocess.run([caviar] + common, check=True, capture_output=True, text=True).stdout,
          records)
    caviar_seconds = time.time() - start
    start = time.time()
    parse(subprocess.run(["/usr/bin/python3", os.path.join(HERE, "optuna_quality.py")] + common,
                         check=True, capture_output=True, text=True).stdout, records)
    optuna_seconds = time.time() - start

    functions = []
    for fn, _ in records["curve"]:
        if fn not in functions:
            functions.append(fn)
    budgets = [b for b in BUDGETS if b <= args.max_trials]
    print(f"Median regret over {args.seeds} seeds from {args.first_seed} (25th-75th percentile at 50 trials); "
          f"suggestion cost in microseconds at up to {args.max_trials} trials.\n")
    print("| function | sampler | " + " | ".join(f"{b} trials" for b in budgets) +
          " | IQR at 50 | us/suggestion |")
    print("|" + "---|" * (len(budgets) + 4))
    for fn in functions:
        for label in LABELS.values():
            if (fn, label) not in records["time"]:
                continue
            cells = [f"{records['point'][(fn, label, b)][0]:.3g}" for b in budgets]
            q = records["point"].get((fn, label, 50))
            iqr = f"{q[1]:.3g}-{q[2]:.3g}" if q else ""
            print(f"| {fn} | {label} | " + " | ".join(cells) +
                  f" | {iqr} | {records['time'][(fn, label)]:.0f} |")
    print(f"\nWall time: caviar {caviar_seconds:.1f} s, Optuna {optuna_seconds:.1f} s.\n")

    def med(fn, label, b):
        return records["point"][(fn, label, b)][0]

    checks = []
    if "alpha_epsilon" in functions and 25 in budgets:
        checks.append(("random beats grid at 25 trials on alpha_epsilon",
                       med("alpha_epsilon", "caviar random", 25),
                       med("alpha_epsilon", "caviar grid", 25)))
    if 50 in budgets:
        for fn in functions:
            for ours, theirs in [("caviar tpe", "Optuna TPESampler"),
                                 ("caviar coarse_to_fine (4 workers)", "Optuna TPESampler"),
                                 ("caviar tpe (4 workers)",
                                  "Optuna TPESampler(constant_liar) (4 workers)")]:
                checks.append((f"{fn}: {ours} <= {theirs} at 50 trials", med(fn, ours, 50),
                               med(fn, theirs, 50)))
    print("| bar | ours | theirs | result |\n|---|---|---|---|")
    for name, ours, theirs in checks:
        print(f"| {name} | {ours:.3g} | {theirs:.3g} | {'PASS' if ours <= theirs else 'FAIL'} |")
    svg_plot(records, functions, args.svg)
    print(f"\nPlot: {os.path.relpath(args.svg)}", file=sys.stderr)


if __name__ == "__main__":
    main()
