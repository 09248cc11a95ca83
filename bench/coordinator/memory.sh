#!/usr/bin/env bash
# Memory growth: one caviar-coordinator (a real SQLite file) under 64
# load-generator workers (random search, one progress report per trial)
# until TRIALS trials have finished. Every 5 s it prints the finished trials
# and the coordinator's RSS as a JSON line; at the end, the RSS at the first
# sample past 100,000 finished trials against the last one. The bar (issue
# 8): flat within 10% from 100k to 1M. Not a CI test.
#
#   bash bench/coordinator/memory.sh [BUILD_DIR] [TRIALS] [WORKERS]
#
# BUILD_DIR's caviar-coordinator is measured (pass an older build to compare);
# the load generator is this checkout's build/ unless LOADGEN is set.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$HERE/build}"
TRIALS="${2:-1000000}"
WORKERS="${3:-64}"
LOADGEN="${LOADGEN:-$HERE/build/bench/coordinator/caviar-loadgen}"
TMP="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

# shellcheck source=bench/coordinator/start_coordinator.sh
source "$HERE/bench/coordinator/start_coordinator.sh"
start_coordinator "$BUILD" memory.db

echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$LOADGEN" --coordinator "127.0.0.1:$PORT" --workers "$WORKERS" \
  --trials "$TRIALS" --reports 1 --study memory >"$TMP/loadgen.json" &
loadgen=$!

# Finished trials, as the coordinator counts them (the database is locked
# for its own process).
CLI="${CLI:-$HERE/build/client/caviar}"
finished() {
  "$CLI" --coordinator "127.0.0.1:$PORT" study memory --format json |
    /usr/bin/python3 -c 'import json, sys
s = json.load(sys.stdin)
print(sum(int(s.get(k, 0)) for k in ("succeededTrials", "failedTrials", "stoppedTrials",
                                      "succeeded_trials", "failed_trials", "stopped_trials")))'
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$coordinator/status"; }

start=$(date +%s)
while kill -0 "$loadgen" 2>/dev/null; do
  sleep 5
  kill -0 "$coordinator" 2>/dev/null || { echo "coordinator died" >&2; exit 1; }
  echo "{\"seconds\":$(($(date +%s) - start)),\"finished\":$(finished),\"rss_kib\":$(rss_kib)}" |
    tee -a "$TMP/samples"
done
wait "$loadgen"
echo "{\"seconds\":$(($(date +%s) - start)),\"finished\":$(finished),\"rss_kib\":$(rss_kib)}" |
  tee -a "$TMP/samples"
cat "$TMP/loadgen.json"
kill -TERM "$coordinator"
wait "$coordinator" || true
/usr/bin/python3 - "$TMP/samples" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = next((r for r in rows if r["finished"] >= 100_000), None)
last = rows[-1]
if base is None:
    print(json.dumps({"note": "fewer than 100,000 trials finished", "last": last}))
else:
    growth = (last["rss_kib"] - base["rss_kib"]) / base["rss_kib"]
    per_trial = (last["rss_kib"] - base["rss_kib"]) * 1024 / max(1, last["finished"] - base["finished"])
    print(json.dumps({"rss_mib_at_100k": round(base["rss_kib"] / 1024, 1),
                      "finished_at_base": base["finished"],
                      "rss_mib_at_end": round(last["rss_kib"] / 1024, 1),
                      "finished_at_end": last["finished"],
                      "growth": round(growth, 3),
                      "bytes_per_finished_trial": round(per_trial, 1)}))
PY
