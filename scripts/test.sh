#!/usr/bin/env bash
# Builds caviar and runs its tests with CTest. Long tests (label "long":
# full Fashion-MNIST runs and the like) are skipped unless CAVIAR_LONG=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR="${CAVIAR_BUILD_DIR:-build}"
cd "$BUILD_DIR"
# Label known_failing: checks the current code fails, kept for the fix
# (tests/faults/README.md); never run here.
if [[ "${CAVIAR_LONG:-0}" == 1 ]]; then
  ctest --output-on-failure -j"$(nproc)" -LE known_failing
else
  ctest --output-on-failure -j"$(nproc)" -LE 'long|known_failing'
fi
