#!/usr/bin/env bash
# Coordinator throughput, side by side with Optuna 3.1 + SQLite, in one run.
#
#   bash bench/coordinator/run.sh [BUILD_DIR]
#
# 1. caviar: caviar-coordinator (real SQLite file) + caviar-loadgen with 8
#    workers, 20,000 trials (suggest -> report -> complete each).
# 2. Optuna: 8 worker processes on one SQLite file, 400 trials of the same
#    shape (bench/coordinator/optuna_bench.py, Debian's python3-optuna).
# 3. Scaling: suggestion p99 over the last 1,000 trials of a 100,000-trial
#    study against the p99 of a 1,000-trial study.
# Prints each JSON line and a summary with the ratios.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$HERE/build}"
WORKERS="${WORKERS:-8}"
CAVIAR_TRIALS="${CAVIAR_TRIALS:-20000}"
OPTUNA_TRIALS="${OPTUNA_TRIALS:-400}"
TMP="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

caviar_run() {  # trials -> JSON line
  rm -f "$TMP"/bench.db* "$TMP/port"
  "$BUILD/server/caviar-coordinator" --listen 127.0.0.1:0 --port-file "$TMP/port" \
    --db "$TMP/bench.db" --log-level warning &
  local pid=$!
  for _ in $(seq 100); do [[ -s "$TMP/port" ]] && break; sleep 0.05; done
  "$BUILD/bench/coordinator/caviar-loadgen" --coordinator "127.0.0.1:$(cat "$TMP/port")" \
    --workers "$WORKERS" --trials "$1"
  kill -TERM "$pid"
  wait "$pid"
}

field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
caviar=$(caviar_run "$CAVIAR_TRIALS"); echo "$caviar"
optuna=$(/usr/bin/python3 "$HERE/bench/coordinator/optuna_bench.py" --workers "$WORKERS" \
  --trials "$OPTUNA_TRIALS"); echo "$optuna"
small=$(caviar_run 1000); echo "$small"
large=$(caviar_run 100000); echo "$large"
/usr/bin/python3 - "$caviar" "$optuna" "$small" "$large" <<'PY'
import json, sys
caviar, optuna, small, large = (json.loads(a) for a in sys.argv[1:])
print(f"summary: caviar {caviar['trials_per_second']:.0f} trials/s, "
      f"optuna-sqlite {optuna['trials_per_second']:.1f} trials/s, "
      f"ratio {caviar['trials_per_second'] / optuna['trials_per_second']:.0f}x "
      f"({caviar['workers']} workers)")
print(f"summary: suggest p99 at 100,000 trials {large['suggest_p99_last_window_ms']:.3f} ms, "
      f"at 1,000 {small['suggest_p99_last_window_ms']:.3f} ms, ratio "
      f"{large['suggest_p99_last_window_ms'] / small['suggest_p99_last_window_ms']:.2f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
