#!/usr/bin/env bash
# The systemd units as installed (cmake --install into a scratch root, next
# to a copy of this machine's own units so targets resolve): both must pass
# `systemd-analyze verify` without a single warning, and their offline
# `systemd-analyze security` exposure must stay at or under 2.0 (coordinator)
# and 3.0 (worker, which runs the studies' commands). Prints both scores.
# Needs no running systemd and no root.
#   systemd_units_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
command -v systemd-analyze >/dev/null || {
  echo "systemd_units_test: FAILED: systemd-analyze missing (tests/deploy/setup.sh)" >&2
  exit 1
}
T="$(mktemp -d /tmp/caviar-units-XXXXXX)"
trap 'rm -rf "$T"' EXIT
DESTDIR="$T/root" cmake --install "$BUILD" --prefix /usr >"$T/install.log"
UNITS="$T/root/lib/systemd/system"
cp -an /lib/systemd/system/. "$UNITS/"
systemd-analyze verify --man=no --root="$T/root" "$UNITS/caviar-coordinator.service" \
  "$UNITS/caviar-worker@1.service" >"$T/verify.log" 2>&1 || true
if [[ -s "$T/verify.log" ]]; then
  echo "systemd_units_test: FAILED: systemd-analyze verify:" >&2
  cat "$T/verify.log" >&2
  exit 1
fi
status=0
for unit_limit in caviar-coordinator.service:2.0 caviar-worker@1.service:3.0; do
  unit="${unit_limit%:*}" limit="${unit_limit#*:}"
  systemd-analyze security --offline=true --root="$T/root" "$UNITS/$unit" \
    >"$T/security.log" 2>&1 || true
  score="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security.log")"
  [[ -n "$score" ]] || { cat "$T/security.log" >&2; exit 1; }
  echo "systemd_units_test: $unit exposure $score (limit $limit)"
  awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s <= l) }' || {
    grep "✗" "$T/security.log" >&2
    status=1
  }
done
((status == 0)) && echo "systemd_units_test: PASSED"
exit $status
