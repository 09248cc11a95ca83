#!/bin/sh
# Fashion-MNIST accuracy of the trainer next to PyTorch with the same network
# (784-256-256-10, BN, ReLU, He init), optimizer (Adam 1e-3, 0.9, 0.999, 1e-8),
# batch 128, split (55,000 train / last 5,000 dev / 10,000 test) and epochs,
# over several seeds; prints each run's final line and the mean per peer.
#
#   bench/trainer/compare_accuracy.sh [BUILD_DIR] [EPOCHS] [SEEDS]
set -eu
BUILD=${1:-build}
EPOCHS=${2:-10}
SEEDS=${3:-"1 2 3"}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOL=$BUILD/bench/trainer/fashion_accuracy
[ -x "$TOOL" ] || TOOL=$BUILD/bench_trainer/fashion_accuracy
OUT=$(mktemp -d)
for s in $SEEDS; do
  "$TOOL" --epochs "$EPOCHS" --seed "$s" > "$OUT/caviar_$s.txt"
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$ROOT/scripts/torch/fashion_accuracy.py" \
    --epochs "$EPOCHS" --seed "$s" > "$OUT/torch_$s.txt"
done
/usr/bin/python3 - "$OUT" <<'PY'
import glob, os, re, statistics, sys
out = sys.argv[1]
rows = {}
for peer in ("caviar", "torch"):
    finals = []
    for path in sorted(glob.glob(os.path.join(out, f"{peer}_*.txt"))):
        last = open(path).read().strip().splitlines()[-1]
        f = dict(re.findall(r"(\w+)=(\S+)", last))
        finals.append((float(f["dev_accuracy"]), float(f["test_accuracy"])))
        print(f"{peer:6s} seed {path.rsplit('_', 1)[1][:-4]}: {last}")
    rows[peer] = (statistics.mean(d for d, _ in finals), statistics.mean(t for _, t in finals))
for peer, (d, t) in rows.items():
    print(f"mean {peer:6s}: dev_accuracy={d:.4f} test_accuracy={t:.4f}")
dd = 100 * (rows["caviar"][0] - rows["torch"][0])
dt = 100 * (rows["caviar"][1] - rows["torch"][1])
print(f"caviar - torch: dev {dd:+.2f} pp, test {dt:+.2f} pp")
PY
rm -r "$OUT"
