#!/usr/bin/env bash
# Test-only packages of tests/http: Debian's prometheus (the server and
# promtool) for prometheus_scrape_test. Idempotent; .ci/run calls it. Without
# root it does nothing (that test then skips). The package's own service is
# not started here (no systemd in CI; the test starts its own on loopback).
set -euo pipefail
if dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q "install ok installed"; then
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "tests/http/setup.sh: not root, skipping (prometheus_scrape_test will skip)" >&2
  exit 0
fi
echo "tests/http/setup.sh: installing prometheus" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
