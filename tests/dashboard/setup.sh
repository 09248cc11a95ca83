#!/usr/bin/env bash
# Test-only packages of tests/dashboard: Debian's chromium, node and npm, and
# the node modules of package-lock.json (playwright-core only: it drives
# /usr/bin/chromium, so no browser is downloaded). Idempotent; .ci/run calls
# it. Without root it installs no package (dashboard_browser_test then skips
# if chromium or node is missing).
set -euo pipefail
cd "$(dirname "$0")"
# Only what is missing: a machine with another node (e.g. NodeSource's, npm
# included) keeps it, as Debian's npm would conflict with it.
need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "tests/dashboard/setup.sh: not root, not installing ${need[*]}" >&2
  else
    echo "tests/dashboard/setup.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
if command -v npm >/dev/null && [[ ! -d node_modules/playwright-core ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
