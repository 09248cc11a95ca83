#!/usr/bin/env bash
# The real binaries: secure by default, token files (permissions, roles,
# SIGHUP reload), the audit log on the coordinator's stderr, a foreign
# database left untouched, and `caviar backup` while a worker runs, restored
# by starting a coordinator on the copy.
#   coordinator_security_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD="$1"; SRC="$2"
COORD="$BUILD/server/caviar-coordinator"; WORKER="$BUILD/worker/caviar-worker"
CLI="$BUILD/client/caviar"
T="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do echo "== $f"; tail -20 "$f"; done >&2; exit 1; }

start_coordinator() {  # LOG DB [FLAGS...]: sets PORT
  local log="$1" db="$2"; shift 2
  rm -f "$T/port"
  "$COORD" --listen 127.0.0.1:0 --port-file "$T/port" --db "$db" "$@" 2>"$log" &
  PIDS+=($!)
  for _ in $(seq 200); do [[ -s "$T/port" ]] && break; sleep 0.05; done
  [[ -s "$T/port" ]] || fail "coordinator did not start"
  PORT="$(cat "$T/port")"
}
cli() { "$CLI" --coordinator "127.0.0.1:$PORT" "$@"; }

# 1. Off loopback without tokens: refused before the database is created.
if "$COORD" --listen 0.0.0.0:0 --db "$T/open.db" 2>"$T/open.log"; then fail "0.0.0.0 served open"; fi
grep -q -- "--insecure" "$T/open.log" || fail "no hint at --insecure"
[[ ! -e "$T/open.db" ]] || fail "a refused start created the database"

# 2. A world-readable token file is refused.
ADMIN=admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
VIEWER=viewer-0123456789abcdef; VIEWER2=viewer-rotated-0123456789; POOL=pool-a-0123456789abcdef
printf 'admin ops %s\nviewer grafana %s\nworker pool-a %s\n' "$ADMIN" "$VIEWER" "$POOL" >"$T/tokens"
chmod 644 "$T/tokens"
if "$COORD" --listen 127.0.0.1:0 --db "$T/c.db" --tokens-file "$T/tokens" 2>"$T/perm.log"; then
  fail "world-readable token file accepted"; fi
grep -q "chmod 600" "$T/perm.log" || fail "no permission hint"
chmod 600 "$T/tokens"

# 3. A foreign SQLite file is refused and left byte for byte as it was.
sqlite3 "$T/notes.db" "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');"
SUM="$(sha256sum <"$T/notes.db")"
if "$COORD" --db "$T/notes.db" --listen 127.0.0.1:0 2>"$T/notes.log"; then fail "foreign db opened"; fi
grep -q "not a caviar database" "$T/notes.log" || fail "no reason for the foreign db"
[[ "$(sha256sum <"$T/notes.db")" == "$SUM" && ! -e "$T/notes.db-wal" ]] || fail "foreign db modified"

# 4. Roles, with the audit log on the coordinator's stderr.
start_coordinator "$T/coordinator.log" "$T/c.db" --tokens-file "$T/tokens"
cp "$SRC/examples/quadratic.py" "$T/"
sed -e 's/max_trials: 20/max_trials: 6/' "$SRC/examples/quadratic.yaml" >"$T/quadratic.yaml"
SPEC="$T/quadratic.yaml"
if CAVIAR_TOKEN=$VIEWER cli submit "$SPEC" 2>"$T/viewer-submit.log"; then fail "viewer created a study"; fi
grep -q "needs an admin token" "$T/viewer-submit.log" || fail "viewer refusal reason"
if cli studies 2>/dev/null; then fail "anonymous call served"; fi
CAVIAR_TOKEN=$ADMIN cli submit "$SPEC" >/dev/null
CAVIAR_TOKEN=$VIEWER cli studies | grep -q quadratic || fail "viewer cannot read"
grep -q "refused /caviar.v1.StudyService/CreateStudy peer=ipv4:127.0.0.1:[0-9]* credential=grafana code=PERMISSION_DENIED" \
  "$T/coordinator.log" || fail "no audit line for the viewer's CreateStudy"
grep -q "refused /caviar.v1.StudyService/ListStudies peer=ipv4:127.0.0.1:[0-9]* credential=- code=UNAUTHENTICATED" \
  "$T/coordinator.log" || fail "no audit line for the anonymous call"
! grep -q -e "$ADMIN" -e "$VIEWER" -e "$POOL" "$T/coordinator.log" || fail "a token reached the log"

# 5. A backup while a worker runs the study; only the admin may take one.
CAVIAR_TOKEN=$POOL "$WORKER" --coordinator "127.0.0.1:$PORT" --id w1 --study quadratic \
  2>"$T/worker.log" &
PIDS+=($!)
for _ in $(seq 100); do
  CAVIAR_TOKEN=$VIEWER cli trials quadratic --state succeeded --format csv 2>/dev/null | grep -q "pool-a/w1" && break
  sleep 0.1
done
if CAVIAR_TOKEN=$VIEWER cli backup "$T/denied.db" 2>/dev/null; then fail "viewer took a backup"; fi
[[ ! -e "$T/denied.db" && ! -e "$T/denied.db.partial" ]] || fail "refused backup left a file"
CAVIAR_TOKEN=$ADMIN cli backup "$T/copy.db" || fail "backup failed"
if CAVIAR_TOKEN=$ADMIN cli backup "$T/copy.db" 2>/dev/null; then fail "backup overwrote a file"; fi
[[ "$(sqlite3 "$T/copy.db" 'PRAGMA integrity_check')" == ok ]] || fail "copy integrity"

# 6. SIGHUP re-reads the tokens: the rotated viewer token works, the old one not.
printf 'admin ops %s\nviewer grafana %s\nworker pool-a %s\n' "$ADMIN" "$VIEWER2" "$POOL" >"$T/tokens"
kill -HUP "${PIDS[0]}"
for _ in $(seq 50); do grep -q "SIGHUP: token files re-read" "$T/coordinator.log" && break; sleep 0.1; done
CAVIAR_TOKEN=$VIEWER2 cli studies >/dev/null || fail "rotated token refused"
if CAVIAR_TOKEN=$VIEWER cli studies 2>/dev/null; then fail "old token still works"; fi
CAVIAR_TOKEN=$ADMIN cli wait quadratic >/dev/null 2>&1
kill "${PIDS[0]}"

# 7. Restore: a coordinator on the copy has the study and its trials.
start_coordinator "$T/restored.log" "$T/copy.db" --tokens-file "$T/tokens"
CAVIAR_TOKEN=$VIEWER2 cli trials quadratic --format csv | grep -q "pool-a/w1" || fail "copy lacks trials"
echo "coordinator security: all checks passed"
