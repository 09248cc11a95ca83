#!/usr/bin/env bash
# Installs what the sanitizer builds, the fuzzers and the fault-injection
# tests need beyond scripts/setup-debian.sh, from Debian 12 packages: clang
# with its runtime libraries (libFuzzer, ASan, UBSan, TSan), iproute2 (network
# namespaces), util-linux (unshare) and ninja-build (scripts/sanitize.sh builds
# many test targets at once). Idempotent.
set -euo pipefail
exec bash "$(dirname "$0")/setup-debian.sh" clang libclang-rt-dev iproute2 util-linux ninja-build
