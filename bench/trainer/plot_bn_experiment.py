#!/usr/bin/python3
"""Plots dev accuracy against training steps, without and with batch norm,
as a standalone SVG (standard library only: matplotlib is not installed).

    plot_bn_experiment.py WITHOUT.txt WITH.txt LEARNING_RATE OUT.csv OUT.svg

Inputs are fashion_accuracy --eval_every_steps outputs ("steps=N dev_accuracy=A").
"""
import re
import sys


def read(path):
    points = []
    for line in open(path):
        m = re.match(r"steps=(\d+) dev_accuracy=([\d.]+)", line)
        if m:
            points.append((int(m.group(1)), float(m.group(2))))
    return points


without, with_bn = read(sys.argv[1]), read(sys.argv[2])
lr, csv_path, svg_path = sys.argv[3], sys.argv[4], sys.argv[5]

with open(csv_path, "w") as f:
    f.write("steps,dev_accuracy_without_bn,dev_accuracy_with_bn\n")
    for (s, a), (_, b) in zip(without, with_bn):
        f.write(f"{s},{a:.4f},{b:.4f}\n")

W, H, L, R, T, B = 720, 440, 70, 20, 40, 60
max_steps = max(s for s, _ in without + with_bn)
y_lo, y_hi = 0.5, 0.95


def x(s):
    return L + (W - L - R) * s / max_steps


def y(a):
    a = min(max(a, y_lo), y_hi)
    return T + (H - T - B) * (1 - (a - y_lo) / (y_hi - y_lo))


def polyline(points, color):
    coords = " ".join(f"{x(s):.1f},{y(a):.1f}" for s, a in points)
    return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>'


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'font-family="sans-serif" font-size="13">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">Fashion-MNIST, '
         f'3 x 100 sigmoid units, gradient descent lr {lr}, batch 60</text>']
for i in range(0, 10):
    a = y_lo + i * 0.05
    if a > y_hi + 1e-9:
        break
    parts.append(f'<line x1="{L}" x2="{W - R}" y1="{y(a):.1f}" y2="{y(a):.1f}" '
                 f'stroke="#ddd"/>')
    parts.append(f'<text x="{L - 6}" y="{y(a) + 4:.1f}" text-anchor="end">{a:.2f}</text>')
step_tick = 2000 if max_steps > 8000 else 1000
for s in range(0, max_steps + 1, step_tick):
    parts.append(f'<line x1="{x(s):.1f}" x2="{x(s):.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
    parts.append(f'<text x="{x(s):.1f}" y="{H - B + 18}" text-anchor="middle">{s}</text>')
parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 18}" text-anchor="middle">training steps</text>')
parts.append(f'<text transform="translate(18,{(T + H - B) / 2}) rotate(-90)" '
             f'text-anchor="middle">dev accuracy</text>')
parts.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" '
             f'stroke="#444"/>')
parts.append(polyline(without, "#d62728"))
parts.append(polyline(with_bn, "#1f77b4"))
parts.append(f'<line x1="{W - 230}" x2="{W - 200}" y1="{H - B - 50}" y2="{H - B - 50}" '
             f'stroke="#1f77b4" stroke-width="2"/>')
parts.append(f'<text x="{W - 194}" y="{H - B - 46}">with batch norm</text>')
parts.append(f'<line x1="{W - 230}" x2="{W - 200}" y1="{H - B - 28}" y2="{H - B - 28}" '
             f'stroke="#d62728" stroke-width="2"/>')
parts.append(f'<text x="{W - 194}" y="{H - B - 24}">without batch norm</text>')
parts.append("</svg>")
open(svg_path, "w").write("\n".join(parts) + "\n")
print(f"wrote {csv_path} and {svg_path}", file=sys.stderr)
