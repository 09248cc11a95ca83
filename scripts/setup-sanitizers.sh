#!/usr/bin/env bash
# Installs what the sanitizer builds, the fuzzers and the fault-injection
# tests need beyond scripts/setup-debian.sh, from Debian 12 packages: clang
# with its runtime libraries (libFuzzer, ASan, UBSan, TSan), iproute2 (network
# namespaces) and util-linux (unshare). Idempotent.
set -euo pipefail
PACKAGES=(clang libclang-rt-dev iproute2 util-linux)
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
