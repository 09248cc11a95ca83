#!/usr/bin/python3
"""Summarizes run_bench.sh output: median samples/s per peer and thread
count, the caviar/PyTorch ratio, GFLOP/s against the GEMM peak, and
2 workers x 1 thread against 1 worker x 2 threads.

    bench/trainer/run_bench.sh build | tee run.txt; bench/trainer/summarize.py run.txt
"""
import re
import statistics
import sys
from collections import defaultdict

FLOPS_PER_SAMPLE = 2.0 * 2 * (784 * 256 + 256 * 256 + 256 * 10) + 2.0 * (256 * 256 + 256 * 10)

rates = defaultdict(list)
cpu_rates = defaultdict(list)
peak = {}
cpu_peak = {}
pairs = defaultdict(float)
for line in open(sys.argv[1]):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    kind = line.split(" ", 1)[0]
    if kind == "gemm" and fields.get("m") == "1024":
        # The best available GEMM's peak: the higher of Eigen's and the BLAS's
        # (and of any OPENBLAS_CORETYPE the run tried).
        t = int(fields["threads"])
        peak[t] = max(peak.get(t, 0.0), float(fields["gflops"]))
        cpu_peak[t] = max(cpu_peak.get(t, 0.0), float(fields.get("gflops_per_cpu_s", "nan")))
    elif kind in ("torch", "train"):
        rates[(kind, int(fields["threads"]))].append(float(fields["samples_per_s"]))
        cpu_rates[(kind, int(fields["threads"]))].append(float(fields["samples_per_cpu_s"]))
    elif kind.startswith("worker"):
        # Each pair of concurrent workers appears once per repeat, in order.
        pairs[kind] = pairs.get(kind, 0)
        rates[("pair", kind)].append(float(fields["samples_per_s"]))

print("| threads | PyTorch samples/s | caviar samples/s | caviar / PyTorch | caviar GFLOP/s | GEMM peak GFLOP/s | of peak |")
print("|---|---|---|---|---|---|---|")
for t in (1, 2):
    torch = statistics.median(rates[("torch", t)])
    ours = statistics.median(rates[("train", t)])
    gflops = ours * FLOPS_PER_SAMPLE / 1e9
    print(f"| {t} | {torch:,.0f} | {ours:,.0f} | {ours / torch:.2f}x | {gflops:.1f} | "
          f"{peak.get(t, float('nan')):.1f} | {gflops / peak.get(t, float('nan')):.0%} |")
print("\nPer CPU-second (process CPU time; robust to other load at 1 thread, "
      "includes OpenMP/OpenBLAS spinning at 2):")
print("| threads | PyTorch samples/CPU-s | caviar samples/CPU-s | caviar / PyTorch | caviar GFLOP/CPU-s | GEMM peak GFLOP/CPU-s | of peak |")
print("|---|---|---|---|---|---|---|")
for t in (1, 2):
    torch = statistics.median(cpu_rates[("torch", t)])
    ours = statistics.median(cpu_rates[("train", t)])
    gflops = ours * FLOPS_PER_SAMPLE / 1e9
    p = cpu_peak.get(t, float("nan"))
    print(f"| {t} | {torch:,.0f} | {ours:,.0f} | {ours / torch:.2f}x | {gflops:.1f} | {p:.1f} | {gflops / p:.0%} |")
w1 = rates[("pair", "worker1of2")]
w2 = rates[("pair", "worker2of2")]
if w1 and w2:
    together = statistics.median(a + b for a, b in zip(w1, w2))
    one = statistics.median(rates[("train", 2)])
    print(f"\n2 workers x 1 thread: {together:,.0f} samples/s in total; "
          f"1 worker x 2 threads: {one:,.0f} samples/s; ratio {together / one:.2f}x")
