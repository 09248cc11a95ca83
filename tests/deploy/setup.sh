#!/usr/bin/env bash
# Installs what the deployment tests (tests/deploy) need on a clean Debian 12,
# as root: a real Slurm with munge, mmdebstrap for the .deb-in-a-chroot test,
# lintian, systemd-analyze, ip/openssl for the network-namespace test, kubectl
# (Debian's kubernetes-client, unless a kubectl is already there) and the npm
# packages that validate the Kubernetes manifests (tests/deploy/k8s, lockfile
# committed). Idempotent; .ci/run calls it before scripts/test.sh. Without
# root it does nothing (the tests then skip).
set -euo pipefail
cd "$(dirname "$0")"
if [[ $(id -u) != 0 ]]; then
  echo "tests/deploy/setup.sh: not root, skipping (deployment tests will skip)" >&2
  exit 0
fi
PACKAGES=(slurm-wlm munge mmdebstrap lintian systemd iproute2 openssl dpkg-dev file)
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)
command -v npm >/dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "tests/deploy/setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Only the packages: no daemon is started by their maintainer scripts here
  # (no systemd running); the tests start and stop their own.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ! -d k8s/node_modules ]] || [[ k8s/package-lock.json -nt k8s/node_modules ]]; then
  (cd k8s && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
