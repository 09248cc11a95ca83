#!/usr/bin/env bash
# Coordinator throughput, one build against another in the same run: the
# same caviar-loadgen (8 workers, 20,000 trials) against each build's
# caviar-coordinator in turn, ROUNDS times (A B A B ...), each on a fresh
# SQLite file. Prints each run's JSON line and the median trials/s of each.
#
#   bash bench/coordinator/ab.sh A_BUILD_DIR B_BUILD_DIR [ROUNDS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
A="$1"
B="$2"
ROUNDS="${3:-3}"
LOADGEN="${LOADGEN:-$B/bench/coordinator/caviar-loadgen}"
TMP="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

run() {  # build dir -> trials/s
  rm -f "$TMP"/bench.db* "$TMP/port"
  "$1/server/caviar-coordinator" --listen 127.0.0.1:0 --port-file "$TMP/port" \
    --db "$TMP/bench.db" --log-level warning &
  local pid=$!
  for _ in $(seq 200); do [[ -s "$TMP/port" ]] && break; sleep 0.05; done
  local line
  line=$("$LOADGEN" --coordinator "127.0.0.1:$(cat "$TMP/port")" --workers 8 --trials 20000)
  kill -TERM "$pid"
  wait "$pid" || true
  echo "$line" >&2
  /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])['trials_per_second'])" "$line"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
a=() b=()
for _ in $(seq "$ROUNDS"); do
  a+=("$(run "$A")")
  b+=("$(run "$B")")
done
/usr/bin/python3 - "${a[*]}" "${b[*]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
print(f"A trials/s: {a} median {statistics.median(a):.0f}")
print(f"B trials/s: {b} median {statistics.median(b):.0f}")
print(f"B / A: {statistics.median(b) / statistics.median(a):.3f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
