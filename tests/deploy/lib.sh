# Shared by the tests/deploy scripts: skip without root, fail loudly.
# Sourced; sets BUILD (the build folder) and SRC (the source tree) from $1 $2.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
SRC="$(cd "$2" && pwd)"
TEST_NAME="$(basename "$0" .sh)"
if [[ $(id -u) != 0 ]]; then
  echo "$TEST_NAME: SKIPPED: needs root" >&2
  exit 77
fi
fail() {
  echo "$TEST_NAME: FAILED: $*" >&2
  exit 1
}
need() {
  for c in "$@"; do
    command -v "$c" >/dev/null ||
      fail "$c is missing: run bash tests/deploy/setup.sh (CI does, before the tests)"
  done
}
# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
# new_token FILE: a random token in FILE, readable by its owner only (the
# coordinator refuses token files that every user can read).
new_token() {
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1")
}
