#!/usr/bin/env bash
# deploy/slurm/caviar.sbatch against a real Slurm 22.05 (Debian's slurm-wlm):
# starts munged, slurmctld and slurmd on this one node (as root, no systemd;
# everything on 127.0.0.1, state in a temporary folder), then
#  1. sbatch --wait a 4-task job: the study must complete with every trial
#     succeeded (prints the time from sbatch to the finished study);
#  2. jobs whose trials run for minutes are preempted while their trials run
#     (scancel --signal=TERM, and scancel --batch --signal=TERM as
#     --signal=B:TERM@N does): the trials must be PENDING again at once, with
#     a lease of an hour (so not by lease expiry);
#  3. deploy/slurm/caviar-workers.sbatch as a job array against a coordinator
#     started outside Slurm.
# Stops only the daemons it started (by the PIDs in their pid files).
#   slurm_test.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/lib.sh"
need munged slurmctld slurmd sbatch scancel squeue
T="$(mktemp -d /tmp/caviar-slurm-XXXXXX)"
chmod 755 "$T"
PIDFILES=()
cleanup() {
  local rc=$?
  set +e
  for f in "${PIDFILES[@]}"; do
    [[ -s "$f" ]] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  for f in "${PIDFILES[@]}"; do
    for _ in $(seq 50); do
      [[ -s "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null || break
      sleep 0.1
    done
  done
  if ((rc != 0)); then
    for log in "$T"/*.log "$T"/run*/*.log; do
      [[ -f "$log" ]] && { echo "--- $log"; tail -20 "$log"; }
    done >&2
  fi
  rm -rf "$T"
}
trap cleanup EXIT

# munge: our own socket and pid file, Debian's key (made at install).
[[ -f /etc/munge/munge.key ]] || {
  mungekey --create --keyfile /etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
}
mkdir -p "$T/munge"
chown munge:munge "$T/munge"
chmod 755 "$T/munge"
PIDFILES+=("$T/munge/munged.pid")
runuser -u munge -- munged --socket="$T/munge/munge.socket" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" \
  --seed-file="$T/munge/munged.seed"
wait_for 10 test -S "$T/munge/munge.socket" || fail "munged did not start"

NODE="$(hostname -s)"
# The node line as slurmd sees this machine (CPUs, sockets, cores, memory).
NODE_LINE="$(slurmd -C | grep '^NodeName=')"
CPUS="$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")"
export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=caviartest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$T/ctld
SlurmdSpoolDir=$T/slurmd
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
KillWait=10
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=caviar Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$T/ctld" "$T/slurmd"
PIDFILES+=("$T/slurmd.pid" "$T/slurmctld.pid")
slurmctld -D -i >"$T/slurmctld.out.log" 2>&1 &
slurmd -D >"$T/slurmd.out.log" 2>&1 &
node_idle() { sinfo -h -N -o '%T' | grep -q '^idle'; }
wait_for 60 node_idle || fail "the Slurm node did not become idle: $(sinfo -N 2>&1)"
echo "$TEST_NAME: Slurm up: node $NODE, $CPUS CPUs" >&2

mkdir -p "$T/bin"
for b in server/caviar-coordinator worker/caviar-worker client/caviar; do
  ln -sf "$BUILD/$b" "$T/bin/"
done
export CAVIAR_BIN="$T/bin" CAVIAR_HOST=127.0.0.1 CAVIAR_LISTEN_HOST=127.0.0.1
CLI="$T/bin/caviar"
TASKS=$((CPUS < 4 ? CPUS : 4))

# 1. A study run to its end.
cp "$SRC/examples/quadratic.py" "$T/"
sed "s|^name: .*|name: slurm-quadratic|" "$SRC/examples/quadratic.yaml" >"$T/quadratic.yaml"
cd "$T"
START=$(date +%s.%N)
CAVIAR_DB="$T/run1.db" CAVIAR_RUN_DIR="$T/run1" \
  sbatch --wait --ntasks="$TASKS" --output="$T/job1.log" \
  "$SRC/deploy/slurm/caviar.sbatch" "$T/quadratic.yaml" --set budget.max_trials=8 \
  --set budget.max_parallel_trials="$TASKS" >"$T/sbatch1.out" ||
  fail "job 1 failed: $(cat "$T/job1.log")"
END=$(date +%s.%N)
# trials_in DB STUDY: the study's trials (CSV) as stored in the job's
# database, read back by a coordinator of our own.
trials_in() {
  "$BUILD/server/caviar-coordinator" --listen 127.0.0.1:0 --port-file "$1.port" --db "$1" \
    >"$1.check.log" 2>&1 &
  local check=$!
  wait_for 20 test -s "$1.port" || fail "checking coordinator did not start"
  CAVIAR_COORDINATOR="127.0.0.1:$(cat "$1.port")" "$CLI" trials "$2" --format csv
  kill -TERM $check
  wait $check || true
}
trials_in "$T/run1.db" slurm-quadratic >"$T/trials1.csv"
SUCCEEDED=$(grep -c ",SUCCEEDED," "$T/trials1.csv" || true)
((SUCCEEDED == 8)) || fail "expected 8 SUCCEEDED trials, got: $(cat "$T/trials1.csv")"
grep -q "slurm-quadratic" "$T/job1.log" || fail "job log: $(cat "$T/job1.log")"
# sbatch --wait polls (its return lags); the job says when it stopped.
STOPPED="$(date -d "$(sed -n 's/^caviar.sbatch: stopped at \([^ ]*\) .*/\1/p' "$T/job1.log")" +%s.%N)"
awk -v s="$START" -v e="$END" -v j="$STOPPED" -v n="$TEST_NAME" -v t="$TASKS" 'BEGIN {
  printf "%s: job 1: 8 trials on %d Slurm tasks: sbatch to finished study and stopped job %.1f s" \
    " (sbatch --wait returned after %.1f s)\n", n, t, j - s, e - s }' >&2

# 2 and 3. Preempted while its trials run: they go back to PENDING at once,
# whether the workers' step is signalled (scancel --signal=TERM) or the batch
# shell, which passes it on (scancel --batch: what --signal=B:TERM@N does).
# Slurm signals every process of the step, the trial's command too; this
# command ignores SIGTERM, so the worker stops it (SIGKILL after its 1 s
# grace) and hands the trial back. (A command that dies of Slurm's SIGTERM
# before the worker sees its own is reported FAILED by the worker today: a
# race in worker/, not in the batch script.)
cat >"$T/sleepy.yaml" <<'SPEC'
name: slurm-sleepy
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: x, double: {min: 0, max: 1}}
budget: {max_trials: 20}
trial_policy: {lease_seconds: 3600}
command:
  argv: [sh, -c, "trap '' TERM; echo caviar: step=1 score={x}; sleep 600"]
  grace_seconds: 1
SPEC
# preempt N SCANCEL_FLAGS...
preempt() {
  local n="$1"
  shift
  CAVIAR_DB="$T/run$n.db" CAVIAR_RUN_DIR="$T/run$n" \
    sbatch --parsable --ntasks="$TASKS" --output="$T/job$n.log" \
    "$SRC/deploy/slurm/caviar.sbatch" "$T/sleepy.yaml" >"$T/sbatch$n.out"
  local job
  job=$(cut -d';' -f1 "$T/sbatch$n.out")
  wait_for 60 test -s "$T/run$n/coordinator" || fail "job $n did not start"
  export CAVIAR_COORDINATOR="$(cat "$T/run$n/coordinator")" CAVIAR_TOKEN="$(cat "$T/run$n/token")"
  all_active() {
    [[ $("$CLI" trials slurm-sleepy --state ACTIVE --format csv | grep -c ",ACTIVE,") == "$TASKS" ]]
  }
  wait_for 60 all_active || fail "job $n's $TASKS trials did not all start"
  local start=$SECONDS
  scancel "$@" "$job"
  job_gone() { ! squeue -h -j "$job" 2>/dev/null | grep -q .; }
  wait_for 60 job_gone || fail "job $n still there after scancel $*"
  local took=$((SECONDS - start))
  trials_in "$T/run$n.db" slurm-sleepy >"$T/trials$n.csv"
  local active pending
  active=$(grep -c ",ACTIVE," "$T/trials$n.csv" || true)
  pending=$(grep -c ",PENDING," "$T/trials$n.csv" || true)
  ((active == 0 && pending == TASKS)) ||
    fail "after scancel $* expected $TASKS PENDING and 0 ACTIVE trials: $(cat "$T/trials$n.csv")"
  echo "$TEST_NAME: job $n, scancel $*: its $TASKS running trials PENDING again, job gone in ${took}s" >&2
}
preempt 2 --signal=TERM
preempt 3 --batch --signal=TERM

# 4. Workers as a job array against a coordinator that runs elsewhere (here:
# started by the test, with tokens).
new_token "$T/array-admin.token"
new_token "$T/array-worker.token"
"$BUILD/server/caviar-coordinator" --listen 127.0.0.1:0 --port-file "$T/array.port" \
  --db "$T/array.db" --admin-token-file "$T/array-admin.token" \
  --worker-token-file "$T/array-worker.token" >"$T/array-coordinator.log" 2>&1 &
ARRAY_COORDINATOR=$!
PIDFILES+=("$T/array-coordinator.pid")
echo "$ARRAY_COORDINATOR" >"$T/array-coordinator.pid"
wait_for 20 test -s "$T/array.port" || fail "the array's coordinator did not start"
export CAVIAR_COORDINATOR="127.0.0.1:$(cat "$T/array.port")"
export CAVIAR_TOKEN="$(cat "$T/array-admin.token")"
"$CLI" submit "$T/quadratic.yaml" --name slurm-array --set budget.max_trials=4 >/dev/null
CAVIAR_TOKEN="$(cat "$T/array-worker.token")" sbatch --wait --array=1-2 \
  --output="$T/array-%a.log" "$SRC/deploy/slurm/caviar-workers.sbatch" slurm-array \
  >/dev/null || fail "the array job failed: $(cat "$T"/array-*.log)"
"$CLI" trials slurm-array --format csv >"$T/trials4.csv"
SUCCEEDED=$(grep -c ",SUCCEEDED," "$T/trials4.csv" || true)
((SUCCEEDED == 4)) || fail "expected 4 SUCCEEDED trials from the array: $(cat "$T/trials4.csv")"
ARRAY_WORKERS=$(awk -F, 'NR > 1 { print $(NF - 1) }' "$T/trials4.csv" | sort -u | tr '\n' ' ')
echo "$TEST_NAME: job 4, a 2-task array of workers: 4 trials by $ARRAY_WORKERS" >&2
echo "$TEST_NAME: PASSED"
