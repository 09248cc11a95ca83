#!/usr/bin/env bash
# Soak: 64 load-generator workers against one caviar-coordinator (a real
# SQLite file) for 10 minutes. Prints, per minute, the lifecycles completed
# and the p99 latency of each RPC, the coordinator's RSS sampled every 10
# seconds, and the final totals (errors must be 0). Not a CI test.
#
#   bash bench/coordinator/soak.sh [BUILD_DIR] [SECONDS] [WORKERS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$HERE/build}"
SECONDS_TOTAL="${2:-600}"
WORKERS="${3:-64}"
INTERVAL="${INTERVAL:-60}"
TMP="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

# shellcheck source=bench/coordinator/start_coordinator.sh
source "$HERE/bench/coordinator/start_coordinator.sh"
start_coordinator "$BUILD" soak.db

rss() { awk '/^VmRSS/ {print $2}' "/proc/$coordinator/status"; }
(
  start=$(date +%s)
  while kill -0 "$coordinator" 2>/dev/null; do
    echo "{\"rss_at_s\":$(($(date +%s) - start)),\"rss_mib\":$(($(rss) / 1024))}"
    sleep 10
  done
) >"$TMP/rss" &
sampler=$!

echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$BUILD/bench/coordinator/caviar-loadgen" --coordinator "127.0.0.1:$PORT" \
  --workers "$WORKERS" --trials 2000000000 --seconds "$SECONDS_TOTAL" \
  --interval "$INTERVAL" --study soak || status=$?
echo "{\"rss_at_s\":\"end\",\"rss_mib\":$(($(rss) / 1024))}" >>"$TMP/rss"
kill "$sampler" 2>/dev/null || true
kill -TERM "$coordinator"
wait "$coordinator" || status=$?
cat "$TMP/rss"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
