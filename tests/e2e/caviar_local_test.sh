#!/usr/bin/env bash
# The README's main job in small: deploy/caviar-local with the real binaries
# runs a study to the end and prints its best trials.
#   caviar_local_test.sh BUILD_DIR PORT SPEC [--set KEY=VALUE]...
set -euo pipefail
BUILD="$1"; PORT="$2"; SPEC="$3"; shift 3
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
"$HERE/deploy/caviar-local" --bin "$BUILD" --port "$PORT" "$@" "$SPEC" >"$OUT" 2>&1 || {
  cat "$OUT"; exit 1; }
cat "$OUT"
grep -q "COMPLETED (budget spent" "$OUT"
grep -Eq "^ *[0-9]+ +SUCCEEDED" "$OUT"
echo "caviar-local ran $SPEC to completion"
