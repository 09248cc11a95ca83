#!/usr/bin/env bash
# The dashboard's bar (issue 12): the study page of a 100,000-trial study is
# interactive in under 2 s. Starts a coordinator on loopback, fills a study
# with caviar-loadgen (N trials, 3 progress reports each), then loads the
# study page in Debian's chromium (tests/dashboard's playwright-core) RUNS
# times (default 3) and prints each time to an interactive page (every chart
# drawn, then a brush round trip) and a table sort.
#
#   [RUNS=3] bash bench/dashboard/run.sh BUILD_DIR [TRIALS=100000]
#
# DASHBOARD_BENCH_DB=FILE keeps the database there and reuses it when it
# exists (loadgen is then skipped).
set -euo pipefail
BUILD=$(realpath "$1")
TRIALS=${2:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
DB=${DASHBOARD_BENCH_DB:-$DIR/c.db}
FILL=1
[[ -s $DB ]] && FILL=0
start_coordinator() {
  rm -f "$DIR/http.port" "$DIR/grpc.port"
  "$BUILD/server/caviar-coordinator" --db "$DB" --listen 127.0.0.1:0 \
    --port-file "$DIR/grpc.port" --http 127.0.0.1:0 --http-port-file "$DIR/http.port" \
    >>"$DIR/coordinator.log" 2>&1 &
  PID=$!
  for _ in $(seq 1200); do [[ -s $DIR/http.port && -s $DIR/grpc.port ]] && break; sleep 0.05; done
}
if ((FILL)); then
  start_coordinator
  start=$(date +%s)
  "$BUILD/bench/coordinator/caviar-loadgen" --coordinator "127.0.0.1:$(cat "$DIR/grpc.port")" \
    --workers 8 --trials "$TRIALS" --reports 3 --study big >"$DIR/loadgen.json"
  echo "loadgen: $TRIALS trials in $(($(date +%s) - start)) s"
  kill "$PID"; wait "$PID" || true; PID=
fi
# RUNS page loads against one coordinator: the first is cold (the
# coordinator starts once that browser has settled, browser.js, and the
# page opens as soon as it listens: its cache of finished trials' columns,
# server/http/trial_columns.h, is still being filled), the others warm.
# The load average before each, as the figures depend on it.
for run in $(seq "${RUNS:-3}"); do
  export NODE_PATH="$HERE/../../tests/dashboard/node_modules"
  if ((run == 1)); then
    rm -f "$DIR/settled"
    PAGE_READY_FILE="$DIR/settled" PAGE_URL_FILE="$DIR/url" \
      node "$HERE/page_time.js" @ big "$TRIALS" >"$DIR/cold.json" &
    NODE=$!
    for _ in $(seq 600); do [[ -e $DIR/settled ]] && break; sleep 0.05; done
    echo "run 1 (cold), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    start_coordinator
    echo "http://127.0.0.1:$(cat "$DIR/http.port")" >"$DIR/url.tmp" && mv "$DIR/url.tmp" "$DIR/url"
    wait "$NODE"
    cat "$DIR/cold.json"
    continue
  fi
  echo "run $run (warm), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  node "$HERE/page_time.js" "http://127.0.0.1:$(cat "$DIR/http.port")" big "$TRIALS"
done
