#!/usr/bin/python3
"""bench/pbt's analysis (run.sh calls it).

  analyze.py best RANDOM.jsonl
      the YAML parameter lines of the best trial's configuration, each
      fixed (one discrete value).
  analyze.py curves POPULATION EPOCHS CSV SVG ARM=TRIALS.jsonl...
      dev accuracy against total epochs per arm: after every trial of the
      population trained k epochs (POPULATION x k epochs in all), the best
      dev accuracy any trial reached so far, and the population's mean at
      step k. Writes the CSV and an SVG plot, prints a Markdown summary.

TRIALS.jsonl: one `caviar trial ID --format json` object per line.
"""
import json
import sys

METRIC = "dev_accuracy"


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def points(trial):
    """(step, branch, value) of every measurement with the metric."""
    out = []
    for m in trial.get("measurements", []):
        v = m.get("metrics", {}).get(METRIC)
        if v is not None:
            out.append((int(m.get("step", 0)), int(m.get("branch", 0)), float(v)))
    return out


def trained_epochs(trial):
    """Epochs the trial really trained: a branch a pbt exploit started
    reports the parent's curve up to its step again; those are copies."""
    copied_up_to = {int(b.get("number", 0)): int(b.get("from_step", 0))
                    for b in trial.get("branches", []) if "exploit" in b}
    return sum(1 for step, branch, _ in points(trial)
               if step > copied_up_to.get(branch, 0))


def best(path):
    trials = [t for t in load(path) if "objective_value" in t]
    top = max(trials, key=lambda t: t["objective_value"])
    for name, value in sorted(top["parameters"].items()):
        print(f"  - {{name: {name}, discrete: {{values: [{value!r}]}}}}")


def curve(trials, epochs):
    """Per step k: best dev accuracy so far, and the mean at step k of each
    trial's current lineage."""
    rows = []
    for k in range(1, epochs + 1):
        so_far = [v for t in trials for s, _, v in points(t) if s <= k]
        at_k = []
        for t in trials:
            current = int(t.get("branch", 0))
            vals = [v for s, b, v in points(t) if s == k and b == current]
            if vals:
                at_k.append(vals[-1])
        rows.append((k, max(so_far) if so_far else None,
                     sum(at_k) / len(at_k) if at_k else None))
    return rows


COLORS = {"pbt": "#d62728", "random": "#1f77b4", "fixed": "#2ca02c"}


def svg(path, population, epochs, curves):
    w, h, left, right, top, bottom = 720, 440, 70, 700, 40, 380
    values = [v for rows in curves.values() for _, b, m in rows for v in (b, m) if v]
    lo = max(0.0, (int(min(values) * 20) - 1) / 20)
    hi = min(1.0, (int(max(values) * 20) + 1) / 20)
    xmax = population * epochs
    X = lambda x: left + (right - left) * x / xmax
    Y = lambda y: bottom - (bottom - top) * (y - lo) / (hi - lo)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="13">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w/2}" y="22" text-anchor="middle" font-size="15">Fashion-MNIST, '
           f'{population} trials x {epochs} epochs per arm: dev accuracy vs total epochs</text>']
    y = lo
    while y <= hi + 1e-9:
        out.append(f'<line x1="{left}" x2="{right}" y1="{Y(y):.1f}" y2="{Y(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left-6}" y="{Y(y)+4:.1f}" text-anchor="end">{y:.2f}</text>')
        y += 0.05
    for k in range(0, epochs + 1):
        x = X(population * k)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom+18}" text-anchor="middle">{population*k}</text>')
    out.append(f'<text x="{(left+right)/2}" y="{bottom+40}" text-anchor="middle">'
               'total epochs trained by the population</text>')
    legend_y = bottom - 60  # Bottom right: the curves end high.
    for arm, rows in curves.items():
        color = COLORS.get(arm, "black")
        for idx, dash in ((1, ""), (2, ' stroke-dasharray="5,4"')):
            pts = " ".join(f"{X(population * r[0]):.1f},{Y(r[idx]):.1f}"
                           for r in rows if r[idx] is not None)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{pts}"/>')
        out.append(f'<line x1="{right-200}" x2="{right-170}" y1="{legend_y}" y2="{legend_y}" '
                   f'stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{right-164}" y="{legend_y+4}">{arm}: best (solid), mean (dashed)</text>')
        legend_y += 18
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    if sys.argv[1] == "best":
        best(sys.argv[2])
        return
    population, epochs = int(sys.argv[2]), int(sys.argv[3])
    csv_path, svg_path = sys.argv[4], sys.argv[5]
    arms = dict(a.split("=", 1) for a in sys.argv[6:])
    curves, summary = {}, []
    for arm, path in arms.items():
        trials = load(path)
        curves[arm] = curve(trials, epochs)
        exploits = sum(1 for t in trials for b in t.get("branches", []) if "exploit" in b)
        finals = [t["objective_value"] for t in trials if "objective_value" in t]
        summary.append((arm, len(trials), sum(trained_epochs(t) for t in trials),
                        exploits, max(finals) if finals else None,
                        sum(finals) / len(finals) if finals else None))
    with open(csv_path, "w") as f:
        f.write("arm,total_epochs,best_dev_accuracy_so_far,mean_dev_accuracy_at_step\n")
        for arm, rows in curves.items():
            for k, b, m in rows:
                f.write(f"{arm},{population*k},{b:.4f},{m:.4f}\n")
    svg(svg_path, population, epochs, curves)
    print("| arm | trials | epochs trained | exploits | best final dev accuracy | mean final dev accuracy |")
    print("|---|---|---|---|---|---|")
    for arm, n, ep, ex, b, m in summary:
        print(f"| {arm} | {n} | {ep} | {ex} | {b:.4f} | {m:.4f} |")


if __name__ == "__main__":
    main()
