#!/usr/bin/env bash
# The dashboard's bar (issue 12): the study page of a 100,000-trial study is
# interactive in under 2 s. Starts a coordinator on loopback, fills a study
# with caviar-loadgen (N trials, 3 progress reports each), then loads the
# study page in Debian's chromium (tests/dashboard's playwright-core) and
# prints the time to an interactive page, a brush and a table sort.
#
#   bash bench/dashboard/run.sh BUILD_DIR [TRIALS=100000]
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
"$BUILD/server/caviar-coordinator" --db "$DB" --listen 127.0.0.1:0 \
  --port-file "$DIR/grpc.port" --http 127.0.0.1:0 --http-port-file "$DIR/http.port" \
  >"$DIR/coordinator.log" 2>&1 &
PID=$!
for _ in $(seq 200); do [[ -s $DIR/http.port && -s $DIR/grpc.port ]] && break; sleep 0.05; done
if ((FILL)); then
  start=$(date +%s)
  "$BUILD/bench/coordinator/caviar-loadgen" --coordinator "127.0.0.1:$(cat "$DIR/grpc.port")" \
    --workers 8 --trials "$TRIALS" --reports 3 --study big >"$DIR/loadgen.json"
  echo "loadgen: $TRIALS trials in $(($(date +%s) - start)) s"
fi
NODE_PATH="$HERE/../../tests/dashboard/node_modules" \
  node "$HERE/page_time.js" "http://127.0.0.1:$(cat "$DIR/http.port")" big "$TRIALS"
