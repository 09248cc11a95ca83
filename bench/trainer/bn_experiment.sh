#!/bin/sh
# The batch-norm paper's MNIST experiment shape (Ioffe & Szegedy 2015, fig. 1a)
# on Fashion-MNIST: 3 hidden layers of 100 sigmoid units, plain gradient
# descent, batch 60, the same learning rate with and without batch norm; dev
# accuracy every 100 steps for 20 epochs. Writes docs/bn_experiment.csv and
# docs/bn_experiment.svg.
#
#   bench/trainer/bn_experiment.sh [BUILD_DIR] [LEARNING_RATE]
set -eu
BUILD=${1:-build}
LR=${2:-0.1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOL=$BUILD/bench/trainer/fashion_accuracy
[ -x "$TOOL" ] || TOOL=$BUILD/bench_trainer/fashion_accuracy
TMP=$(mktemp -d)
for bn in 0 1; do
  "$TOOL" --epochs 20 --hidden 100,100,100 --activation sigmoid --init xavier \
    --optimizer gd --batch_size 60 --learning_rate "$LR" --batch_norm $bn \
    --eval_every_steps 100 --seed 1 > "$TMP/bn$bn.txt"
done
/usr/bin/python3 "$ROOT/bench/trainer/plot_bn_experiment.py" "$TMP/bn0.txt" "$TMP/bn1.txt" \
  "$LR" "$ROOT/docs/bn_experiment.csv" "$ROOT/docs/bn_experiment.svg"
rm -r "$TMP"
