# Sourced by the coordinator benchmarks: start_coordinator BUILD_DIR DB_NAME
# starts BUILD_DIR's caviar-coordinator on an ephemeral loopback port with a
# fresh SQLite file in $TMP, sets $coordinator (its pid) and $PORT, and
# returns once the port is known. The caller owns $TMP and its cleanup.
start_coordinator() {
  "$1/server/caviar-coordinator" --listen 127.0.0.1:0 --port-file "$TMP/port" \
    --db "$TMP/$2" --log-level warning &
  coordinator=$!
  for _ in $(seq 200); do [[ -s "$TMP/port" ]] && break; sleep 0.05; done
  PORT="$(cat "$TMP/port")"
}
