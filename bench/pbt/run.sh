#!/bin/bash
# PBT against random search and against the best fixed configuration at
# equal compute, on Fashion-MNIST with caviar's built-in trainer, through
# the real binaries (a coordinator on loopback, WORKERS workers of one
# thread). Writes docs/pbt.csv (dev accuracy against total epochs, per arm)
# and docs/pbt.svg, and prints a summary for docs/pbt.md.
#
#   bench/pbt/run.sh [BUILD_DIR] [POPULATION] [EPOCHS] [WORKERS] [SEED] [OUT]
#
# OUT (default docs/pbt) names the outputs: OUT.csv, OUT.svg. SEED is the
# studies' seed (the random and pbt arms' initial configurations).
#
# The arms, each POPULATION trials of EPOCHS epochs (POPULATION x EPOCHS
# epochs of compute):
#   pbt     algorithm pbt over learning_rate, beta1, l2, dropout (every
#           epoch a checkpoint; the bottom quarter copies the top quarter)
#   random  algorithm random over the same space, the same budget
#   fixed   the random arm's best configuration trained POPULATION times
#           with different seeds (a grid over the trainer's seed)
# Modest on purpose (a shared 2-core machine): 10,000 training images, a
# 1 x 128 network, 5,000 dev images.
set -euo pipefail
BUILD=${1:-build}
POPULATION=${2:-8}
EPOCHS=${3:-8}
WORKERS=${4:-$POPULATION}
SEED=${5:-11}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${6:-$ROOT/docs/pbt}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$BUILD/server/caviar-coordinator" --db "$TMP/caviar.db" --listen 127.0.0.1:0 \
  --port-file "$TMP/port" 2> "$TMP/coordinator.log" &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$TMP/port" ] && break; sleep 0.05; done
ADDRESS=127.0.0.1:$(cat "$TMP/port")
caviar() { "$BUILD/client/caviar" --coordinator "$ADDRESS" "$@"; }

DATA=/usr/share/datasets/fashion-mnist
spec() {  # NAME ALGORITHM PARAMETERS
  cat <<YAML
name: $1
objective: {metric: dev_accuracy, goal: MAXIMIZE}
parameters:
$3
algorithm: $2
budget: {max_trials: $POPULATION, max_parallel_trials: $POPULATION}
checkpoint: {every_steps: 1, keep_latest: 2}
seed: $SEED
trainer:
  epochs: $EPOCHS
  dataset:
    idx:
      train_images: $DATA/train-images-idx3-ubyte.gz
      train_labels: $DATA/train-labels-idx1-ubyte.gz
      test_images: $DATA/t10k-images-idx3-ubyte.gz
      test_labels: $DATA/t10k-labels-idx1-ubyte.gz
    dev_size: 5000
    split_seed: 1
    train_limit: 10000
  settings: {optimizer: momentum, layers: 1, hidden_units: 128, batch_size: 64,
             activation: relu, batch_norm: true, threads: 1}
YAML
}
SPACE='  - {name: learning_rate, double: {min: 0.0001, max: 1.0}, scale: LOG}
  - {name: beta1, double: {min: 0.5, max: 0.99}, scale: LOG1M}
  - {name: l2, double: {min: 0.000001, max: 0.01}, scale: LOG}
  - {name: dropout, double: {min: 0.0, max: 0.6}}'

run_arm() {  # NAME ALGORITHM PARAMETERS
  spec "$1" "$2" "$3" > "$TMP/$1.yaml"
  caviar submit "$TMP/$1.yaml" > /dev/null
  local workers=()
  for i in $(seq "$WORKERS"); do
    "$BUILD/worker/caviar-worker" --coordinator "$ADDRESS" --id "$1-$i" --study "$1" \
      2> "$TMP/worker-$1-$i.log" &
    workers+=($!)
    PIDS+=($!)
  done
  local start=$SECONDS
  caviar wait "$1" > /dev/null
  echo "$1: $((SECONDS - start)) s" >&2
  kill "${workers[@]}" 2>/dev/null || true
  wait "${workers[@]}" 2>/dev/null || true
  caviar trials "$1" --format json > "$TMP/$1.trials.json"
  /usr/bin/python3 - "$TMP/$1.trials.json" > "$TMP/$1.ids" <<'PY'
import json, sys
trials = json.load(open(sys.argv[1]))
if isinstance(trials, dict): trials = trials.get("trials", [])
print("\n".join(str(t["id"]) for t in trials))
PY
  : > "$TMP/$1.jsonl"
  while read -r id; do
    caviar trial "$id" --format json | /usr/bin/python3 -c \
      'import json,sys; print(json.dumps(json.load(sys.stdin)))' >> "$TMP/$1.jsonl"
  done < "$TMP/$1.ids"
}

run_arm pbt "{name: pbt}" "$SPACE"
run_arm random "{name: random}" "$SPACE"
# The random arm's best configuration, fixed, under POPULATION seeds.
FIXED=$(/usr/bin/python3 "$ROOT/bench/pbt/analyze.py" best "$TMP/random.jsonl")
run_arm fixed "{name: grid}" "$FIXED
  - {name: seed, integer: {min: 1, max: $POPULATION}}"

/usr/bin/python3 "$ROOT/bench/pbt/analyze.py" curves "$POPULATION" "$EPOCHS" \
  "$OUT.csv" "$OUT.svg" \
  pbt="$TMP/pbt.jsonl" random="$TMP/random.jsonl" fixed="$TMP/fixed.jsonl"
