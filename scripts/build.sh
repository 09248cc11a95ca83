#!/usr/bin/env bash
# Installs the dependencies (scripts/setup-debian.sh) and builds caviar into
# ${CAVIAR_BUILD_DIR:-build}. Extra arguments go to cmake's configure step,
# e.g. scripts/build.sh -DCAVIAR_PORTABLE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
BUILD_DIR="${CAVIAR_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
