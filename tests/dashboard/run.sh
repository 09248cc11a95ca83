#!/usr/bin/env bash
# dashboard_browser_test: node dashboard_test.js BUILD_DIR SCREENSHOT_DIR.
# Exit 77 (skipped) without node; dashboard_test.js skips without chromium
# or playwright-core (bash tests/dashboard/setup.sh installs them).
set -euo pipefail
if ! command -v node >/dev/null; then
  echo "node not installed (bash tests/dashboard/setup.sh): skipped"
  exit 77
fi
exec node "$(dirname "$0")/dashboard_test.js" "$@"
