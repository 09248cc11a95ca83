#!/usr/bin/env bash
# The main job: installs what is missing, builds caviar, starts a coordinator
# and 2 workers on this machine, tunes the built-in batch-normalized network
# on Fashion-MNIST (examples/fashion_mnist.yaml) and shows the best trials.
#
#   bash scripts/demo.sh            # short study: 12 trials on 10,000 images, 5 epochs
#   bash scripts/demo.sh --full     # the full study: 60 trials, all 55,000 images, 20 epochs
#   bash scripts/demo.sh examples/quadratic.yaml   # any other spec (a script objective)
#
# Other arguments go to deploy/caviar-local (e.g. --workers 4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ARGS=()
SPECS=()
for arg in "$@"; do
  case "$arg" in
    --full) ARGS+=(--set trainer.epochs=20 --set budget.max_trials=60
                   --set trainer.dataset.train_limit=0 --set name=fashion_mnist_full) ;;
    *.yaml) SPECS+=("$arg") ;;
    *) ARGS+=("$arg") ;;
  esac
done
((${#SPECS[@]})) || SPECS=(examples/fashion_mnist.yaml)
exec deploy/caviar-local --workers 2 "${ARGS[@]}" "${SPECS[@]}"
