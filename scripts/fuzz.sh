#!/usr/bin/env bash
# Fuzzes caviar's parsers, spec validation and the Coordinator's handlers
# with libFuzzer (clang, ASan+UBSan), each target for SECONDS seconds
# (default 60), and prints each target's executions. A crash, leak or
# sanitizer report stops that target, leaves its input in
# $BUILD_DIR/tests/fuzz/artifacts/ and makes the script exit non-zero: add
# the input to tests/fuzz/corpus/TARGET/ as a regression once it is fixed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 coordinator
#
# Targets: spec_yaml metrics_parser placeholders idx csv spec_validation
# coordinator. Build directory: ${CAVIAR_BUILD_DIR:-build-fuzz}. New inputs
# are kept in $BUILD_DIR/tests/fuzz/work/TARGET (the repository's corpus is
# only read), so runs build on each other.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(spec_yaml metrics_parser placeholders idx csv spec_validation coordinator)
fi
BUILD_DIR="${CAVIAR_BUILD_DIR:-build-fuzz}"
bash scripts/setup-debian.sh
bash scripts/setup-sanitizers.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCAVIAR_SANITIZE=address,undefined -DCAVIAR_FUZZ=ON \
  -DCAVIAR_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${TARGETS[@]/%/_fuzzer}" \
  $(printf '%s_seeds ' spec_validation coordinator)

out="$BUILD_DIR/tests/fuzz"
mkdir -p "$out/artifacts"
status=0
total=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$out/work/$t"
  seeds=("tests/fuzz/corpus/$t")
  [[ -d "$out/seeds/$t" ]] && seeds+=("$out/seeds/$t")
  [[ "$t" == spec_yaml ]] && seeds+=(examples)
  log="$out/artifacts/$t.log"
  if ASAN_OPTIONS=detect_leaks=1 "$out/${t}_fuzzer" -max_total_time="$SECONDS_PER_TARGET" \
      -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$t-" "$out/work/$t" "${seeds[@]}" >"$log" 2>&1; then
    result=ok
  else
    result="FAILED (see $log)"
    status=1
  fi
  execs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" | tail -1 || true)
  execs="${execs:-0}"
  total=$((total + execs))
  printf '%-16s %12s executions  %s\n' "$t" "$execs" "$result"
done
printf '%-16s %12s executions\n' total "$total"
exit "$status"
