#!/usr/bin/env bash
# Builds caviar with sanitizers and runs its tests under them.
#
#   scripts/sanitize.sh address   ASan+UBSan (clang) in ${CAVIAR_BUILD_DIR:-build-asan}:
#                                 the whole CTest suite but the "long" label,
#                                 the fuzz targets' short runs included
#   scripts/sanitize.sh thread    TSan in ${CAVIAR_BUILD_DIR:-build-tsan}: the
#                                 coordinator (tests/scheduling), storage, worker
#                                 loop (tests/worker), integration and end-to-end
#                                 tests. Debian's libabsl is not built with TSan,
#                                 so TSan cannot see absl::Mutex/CondVar/
#                                 Notification by itself and would report all
#                                 data they guard as racing: every test runs
#                                 with tests/tsan/absl_sync_annotations.cc
#                                 preloaded (LD_PRELOAD), which tells TSan
#                                 about each lock and unlock (its test:
#                                 tsan_absl_annotations_test; more in
#                                 tests/tsan/README.md). By hand, not in CI
#                                 (a whole second instrumented build).
#   scripts/sanitize.sh ci        what CI runs (.ci/run): ASan+UBSan at -O1,
#                                 every unit and integration test (the
#                                 GoogleTest binaries) and the fuzz targets'
#                                 short runs (fixed seed)
#
# Any sanitizer report fails its test (UBSan does not recover; ASan and
# LeakSanitizer abort). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-address}"
shift || true
bash scripts/setup-debian.sh
bash scripts/setup-sanitizers.sh

case "$MODE" in
  address)
    BUILD_DIR="${CAVIAR_BUILD_DIR:-build-asan}"
    SANITIZE=address,undefined
    EXTRA=(-DCAVIAR_FUZZ=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
    ;;
  ci)
    # -O1 (ASan's advice, and builds faster than -O2); no benchmarks.
    BUILD_DIR="${CAVIAR_BUILD_DIR:-build-asan}"
    SANITIZE=address,undefined
    EXTRA=(-DCAVIAR_FUZZ=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG")
    ;;
  thread)
    BUILD_DIR="${CAVIAR_BUILD_DIR:-build-tsan}"
    SANITIZE=thread
    EXTRA=()
    ;;
  *)
    echo "usage: scripts/sanitize.sh address|thread|ci [ctest args]" >&2
    exit 2
    ;;
esac
# Ninja for a new build directory: it builds the many test targets in
# parallel (make builds the targets named on its command line one by one).
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then EXTRA+=(-G Ninja); fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCAVIAR_SANITIZE="$SANITIZE" -DCAVIAR_BUILD_BENCH=OFF "${EXTRA[@]}" >/dev/null

# Reports abort the test and print a stack; LeakSanitizer is on with ASan.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# TSan: calls to intercepted functions from uninstrumented Debian libraries
# (gRPC, Abseil) are ignored (tests/tsan/tsan.supp says why).
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan/tsan.supp"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0"
cd "$BUILD_DIR"

# Tests registered with CTest (outside the "long" and "known_failing" labels)
# whose names match $1 but not $2 and are build targets (GoogleTest binaries
# and fuzz targets; shell tests are not), one per line.
tests_matching() {
  local targets
  # "... name" (make) or "name: phony" (Ninja).
  targets=$(cmake --build . --target help | sed -E 's/^\.\.\. //; s/:.*$//')
  ctest -N -LE 'long|known_failing' | sed -n 's/^ *Test *#[0-9]*: //p' | grep -E "$1" |
    grep -vE "$2" | while read -r t; do grep -qx "$t" <<<"$targets" && echo "$t"; done
}
build_and_test() {  # INCLUDE EXCLUDE [TARGET...]: regexes of test names, more targets
  mapfile -t tests < <(tests_matching "$1" "$2")
  cmake --build . -j"$(nproc)" --target "${tests[@]}" "${@:3}"
  $RUN ctest --output-on-failure -j"$(nproc)" -LE 'long|known_failing' \
    -R "^($(IFS='|'; echo "${tests[*]}"))\$" "${CTEST_ARGS[@]}"
}
RUN=""
CTEST_ARGS=("$@")
case "$MODE" in
  address)
    cmake --build . -j"$(nproc)"
    ctest --output-on-failure -j"$(nproc)" -LE 'long|known_failing' "$@"
    ;;
  ci)
    # Every GoogleTest binary (the unit tests and the in-process integration
    # test: coordinator, store and workers over real gRPC) and every fuzz
    # target's short run (CAVIAR_FUZZ_SECONDS each, with the fixed
    # CAVIAR_FUZZ_SEED: the same mutations every run, so CI is deterministic;
    # each run replays the target's corpus, regression inputs included, first).
    # The shell tests that start real processes run once, in the Release build
    # (scripts/test.sh): `address` runs them instrumented too.
    build_and_test '.' '^$'
    ;;
  thread)
    # The coordinator, the store, the worker loop, and both together; the
    # tests run with the Abseil annotations preloaded (not the build).
    RUN="env LD_PRELOAD=$PWD/tests/tsan/libcaviar_tsan_absl_annotations.so"
    build_and_test '^(tsan_absl|coordinator|steering|trial_transitions|sqlite_store|worker_|command_objective|objective_factory|e2e_test)' '^$' \
      caviar_tsan_absl_annotations
    ;;
esac
