#!/usr/bin/env bash
# /metrics of a real caviar-coordinator (tokens on): `promtool check metrics`
# accepts a scrape, and a real Prometheus on loopback scrapes it with a
# viewer token and answers queries for caviar's series.
# Usage: prometheus_scrape_test.sh BUILD_DIR SOURCE_DIR. Exit 77 (skipped)
# when Debian's prometheus (promtool included) is not installed
# (tests/http/setup.sh installs it).
set -euo pipefail
BUILD=$1
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  echo "prometheus/promtool not installed (bash tests/http/setup.sh): skipped"
  exit 77
fi
DIR=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for log in "$DIR"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
  exit 1
}
# GET URL [TOKEN]: the body on stdout; fails on a non-200 answer.
get() {
  /usr/bin/python3 - "$@" <<'PY'
import sys, urllib.request
request = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    request.add_header("Authorization", "Bearer " + sys.argv[2])
sys.stdout.write(urllib.request.urlopen(request, timeout=10).read().decode())
PY
}
wait_file() {
  for _ in $(seq 200); do [[ -s $1 ]] && return 0; sleep 0.05; done
  fail "$1 never appeared"
}

ADMIN=admin-$(openssl rand -hex 16)
VIEWER=viewer-$(openssl rand -hex 16)
(umask 077 && printf 'admin ops %s\nviewer prometheus %s\n' "$ADMIN" "$VIEWER" >"$DIR/tokens")
(umask 077 && printf '%s' "$VIEWER" >"$DIR/viewer.token")

"$BUILD/server/caviar-coordinator" --db "$DIR/c.db" --listen 127.0.0.1:0 \
  --port-file "$DIR/grpc.port" --http 127.0.0.1:0 --http-port-file "$DIR/http.port" \
  --tokens-file "$DIR/tokens" >"$DIR/coordinator.log" 2>&1 &
PIDS+=($!)
wait_file "$DIR/grpc.port"
wait_file "$DIR/http.port"
GRPC=127.0.0.1:$(cat "$DIR/grpc.port")
HTTP=127.0.0.1:$(cat "$DIR/http.port")

cat >"$DIR/spec.yaml" <<'YAML'
name: scraped
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: x, double: {min: 0, max: 1}}
budget: {max_trials: 5}
command: {argv: ["true"]}
YAML
CAVIAR_TOKEN=$ADMIN "$BUILD/client/caviar" --coordinator "$GRPC" submit "$DIR/spec.yaml" \
  >/dev/null || fail "submit"
CAVIAR_TOKEN=$ADMIN "$BUILD/client/caviar" --coordinator "$GRPC" studies >/dev/null ||
  fail "studies"

# 1. promtool accepts what the coordinator serves.
get "http://$HTTP/metrics" "$VIEWER" >"$DIR/metrics.txt" || fail "scrape"
grep -q '^caviar_trials{study="scraped",state="PENDING"} ' "$DIR/metrics.txt" ||
  fail "no caviar_trials series for the study"
grep -q '^caviar_rpc_requests_total{service="caviar.v1.StudyService",method="CreateStudy",code="OK"} 1$' \
  "$DIR/metrics.txt" || fail "no RPC counter"
promtool check metrics <"$DIR/metrics.txt" >"$DIR/promtool.log" 2>&1 ||
  fail "promtool check metrics: $(cat "$DIR/promtool.log")"
echo "promtool check metrics: clean ($(wc -l <"$DIR/metrics.txt") lines)"

# 2. A real Prometheus scrapes it every second with the viewer token.
PROM_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$DIR/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: caviar
    authorization: {type: Bearer, credentials_file: $DIR/viewer.token}
    static_configs: [{targets: ["$HTTP"]}]
YAML
promtool check config "$DIR/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$DIR/prometheus.log" 2>&1 &
PIDS+=($!)
query() {
  get "http://127.0.0.1:$PROM_PORT/api/v1/query?query=$1" 2>/dev/null || true
}
found=""
for _ in $(seq 120); do
  answer=$(query 'caviar_trials%7Bstudy%3D%22scraped%22%2Cstate%3D%22PENDING%22%7D')
  if [[ $answer == *'"study":"scraped"'* ]]; then found=yes; break; fi
  sleep 0.25
done
[[ -n $found ]] || fail "Prometheus never returned caviar_trials for the study"
up=$(query 'up%7Bjob%3D%22caviar%22%7D')
[[ $up == *'"value":['*',"1"]'* ]] || fail "up{job=caviar} is not 1: $up"
rpcs=$(query 'caviar_rpc_requests_total%7Bmethod%3D%22CreateStudy%22%7D')
[[ $rpcs == *'"code":"OK"'* ]] || fail "no caviar_rpc_requests_total in Prometheus: $rpcs"
echo "Prometheus scraped caviar: $answer"
