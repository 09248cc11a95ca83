#!/bin/sh
# The trainer next to PyTorch 1.13 (over Debian's OpenBLAS) in one run:
# samples/s of 784-256-256-10 BN/ReLU/Adam, batch 128, float32, at 1 and 2
# threads, alternating the two peers REPEAT times; the float32 GEMM peak;
# and 2 workers x 1 thread against 1 worker x 2 threads.
#
#   bench/trainer/run_bench.sh [BUILD_DIR] [REPEAT] [SECONDS]
#
# Run it on a quiet machine (`uptime` load well below 1): the 2-thread figures
# of both peers collapse when another process competes for a core.
set -eu
BUILD=${1:-build}
REPEAT=${2:-3}
SECONDS_EACH=${3:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$BUILD/bench/trainer/trainer_bench
[ -x "$BENCH" ] || BENCH=$BUILD/bench_trainer/trainer_bench
PY=/usr/bin/python3
# Some machines set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for older
# OpenBLAS builds' sake; this project's machine sets Haswell (AVX2) on an
# AVX-512 CPU, which halves both peers' OpenBLAS. The benchmark runs both on
# the kernels OpenBLAS picks by itself (`# blas:` says which).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
# glibc's malloc keeps freed memory instead of returning every large block to
# the system: PyTorch allocates each step's tensors anew, and the page faults
# of taking them back cost it 4-5x its speed on this virtual machine.
# caviar's trainer allocates nothing per step (trainer_no_allocation_test).
export MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=268435456
TORCH="$PY $ROOT/scripts/torch/bench_torch.py"

echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $(nproc)"
for t in 1 2; do
  "$BENCH" --what gemm --threads $t --seconds "$SECONDS_EACH"
done
i=0
while [ $i -lt "$REPEAT" ]; do
  for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t $TORCH --threads $t --seconds "$SECONDS_EACH"
    "$BENCH" --what train --threads $t --seconds "$SECONDS_EACH"
  done
  # The caviar way: one single-threaded worker per core.
  "$BENCH" --what train --threads 1 --seconds "$SECONDS_EACH" | sed 's/^train/worker1of2/' &
  "$BENCH" --what train --threads 1 --seconds "$SECONDS_EACH" | sed 's/^train/worker2of2/' &
  wait
  i=$((i + 1))
done
echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
