#!/usr/bin/env bash
# Many hosts, really: the coordinator, three workers and the CLI each in their
# own network namespace (and UTS namespace, so each has its own hostname),
# joined by veth pairs to a bridge inside the coordinator's namespace, on
# 10.213.0.0/24. Workers and CLI reach the coordinator over that network, with
# TLS (a self-signed certificate made here) and tokens (worker and admin). The
# study must complete, and the trials must have been run by workers on at
# least two hosts (worker ids default to hostname-pid).
# Nothing is created in the host's namespace; the namespaces (and with them
# every veth and the bridge) are removed by name when the test ends.
#   netns_test.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/lib.sh"
need ip openssl unshare
T="$(mktemp -d /tmp/caviar-netns-XXXXXX)"
NS_PREFIX="caviar-$$"
NAMESPACES=()
PIDS=()
cleanup() {
  local rc=$?
  set +e
  ((${#PIDS[@]})) && kill -TERM "${PIDS[@]}" 2>/dev/null
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if ((rc != 0)); then
    for log in "$T"/*.log; do [[ -f "$log" ]] && { echo "--- $log"; tail -20 "$log"; }; done >&2
  fi
  rm -rf "$T"
}
trap cleanup EXIT

COORD_NS="$NS_PREFIX-coord"
COORD_IP=10.213.0.1
ip netns add "$COORD_NS"
NAMESPACES+=("$COORD_NS")
ip -n "$COORD_NS" link set lo up
ip -n "$COORD_NS" link add br0 type bridge
ip -n "$COORD_NS" addr add "$COORD_IP/24" dev br0
ip -n "$COORD_NS" link set br0 up
# host N: namespace $NS_PREFIX-hN, address 10.213.0.(10+N), eth0 <-> vhN on br0.
add_host() {
  local ns="$NS_PREFIX-h$1"
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  ip link add "vh$1" netns "$COORD_NS" type veth peer name eth0 netns "$ns"
  ip -n "$COORD_NS" link set "vh$1" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "10.213.0.$((10 + $1))/24" dev eth0
  ip -n "$ns" link set eth0 up
}
for h in 1 2 3 4; do add_host "$h"; done
# Hosts 1-3 run workers, host 4 the CLI. in_host N HOSTNAME CMD...: run CMD
# in host N's namespace with its own hostname.
in_host() {
  local ns="$NS_PREFIX-h$1" name="$2"
  shift 2
  ip netns exec "$ns" unshare --uts sh -c 'hostname "$0"; exec "$@"' "$name" "$@"
}

# TLS: a self-signed certificate for the coordinator's name and address.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=caviar-coordinator" \
  -addext "subjectAltName=DNS:caviar-coordinator,IP:$COORD_IP" \
  -keyout "$T/key.pem" -out "$T/cert.pem" 2>"$T/openssl.log" || fail "openssl"
new_token "$T/worker.token"
new_token "$T/admin.token"

PORT=50051
ip netns exec "$COORD_NS" "$BUILD/server/caviar-coordinator" --listen "0.0.0.0:$PORT" \
  --db "$T/caviar.db" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
  --worker-token-file "$T/worker.token" --admin-token-file "$T/admin.token" \
  >"$T/coordinator.log" 2>&1 &
PIDS+=($!)
ADDRESS="$COORD_IP:$PORT"
cli() {
  in_host 4 laptop timeout 120 env CAVIAR_TOKEN="$(cat "$T/admin.token")" \
    "$BUILD/client/caviar" --coordinator "$ADDRESS" --tls-ca "$T/cert.pem" "$@"
}
wait_for 20 cli studies || fail "the CLI cannot reach the coordinator: $(cli studies 2>&1)"
# Without the token, or without TLS, the coordinator refuses.
if in_host 4 laptop "$BUILD/client/caviar" --coordinator "$ADDRESS" --tls-ca "$T/cert.pem" \
  studies >/dev/null 2>&1; then
  fail "the coordinator answered a call without a token"
fi
if in_host 4 laptop env CAVIAR_TOKEN="$(cat "$T/admin.token")" "$BUILD/client/caviar" \
  --coordinator "$ADDRESS" --timeout 3 studies >/dev/null 2>&1; then
  fail "the coordinator answered a plaintext call"
fi

cat >"$T/study.yaml" <<'SPEC'
name: netns
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: x, double: {min: 0, max: 1}}
budget: {max_trials: 12, max_parallel_trials: 3}
command:
  argv: [sh, -c, "sleep 0.3; echo caviar: step=1 score={x}"]
SPEC
cli submit "$T/study.yaml" >/dev/null || fail "submit: $(cli submit "$T/study.yaml" 2>&1)"
for h in 1 2 3; do
  in_host "$h" "host$h" env CAVIAR_TOKEN="$(cat "$T/worker.token")" \
    "$BUILD/worker/caviar-worker" --coordinator "$ADDRESS" --tls-ca "$T/cert.pem" \
    --study netns >"$T/worker$h.log" 2>&1 &
  PIDS+=($!)
done
cli wait netns >/dev/null || fail "the study did not finish"
cli trials netns --format csv >"$T/trials.csv"
SUCCEEDED=$(grep -c ",SUCCEEDED," "$T/trials.csv" || true)
((SUCCEEDED == 12)) || fail "expected 12 SUCCEEDED trials: $(cat "$T/trials.csv")"
HOSTS=$(awk -F, 'NR > 1 { split($(NF - 1), id, "-"); print id[1] }' "$T/trials.csv" |
  sort -u | tr '\n' ' ')
[[ $(wc -w <<<"$HOSTS") -ge 2 ]] || fail "trials ran on hosts '$HOSTS' only"
echo "$TEST_NAME: 12 trials over TLS + tokens on 10.213.0.0/24, by workers on: $HOSTS" >&2
echo "$TEST_NAME: PASSED"
