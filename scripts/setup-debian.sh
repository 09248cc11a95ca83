#!/usr/bin/env bash
# Installs what caviar needs to build, test and run, from Debian 12 packages,
# and any further Debian packages named as arguments (scripts that need more,
# e.g. setup-sanitizers.sh, pass theirs here):
#   bash scripts/setup-debian.sh [PACKAGE...]
# Idempotent: does nothing when everything is there. Runs apt-get as root,
# through sudo when needed.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsqlite3-dev sqlite3 libeigen3-dev zlib1g-dev
  # The trainer picks OpenBLAS for the products where it measures faster.
  libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  python3 dataset-fashion-mnist openssl
  # The Python SDK (python/): its stubs, runtime, and offline pip install.
  python3-grpcio python3-protobuf python3-yaml python3-venv python3-setuptools python3-wheel
  "$@"
)
if [[ "${CAVIAR_WITH_PEERS:-0}" == 1 ]]; then
  # Only for side-by-side benchmarks (bench/): never needed to build or run.
  PACKAGES+=(python3-torch python3-optuna libopenblas0-pthread)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
echo "caviar: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
