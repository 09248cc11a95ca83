#!/usr/bin/env bash
# The main job: installs what is missing, builds caviar, starts a coordinator
# and 2 workers on this machine, runs the bundled study and shows its best
# trials. Extra arguments go to deploy/caviar-local (e.g. --workers 4, or
# other spec files instead of the default).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
if (($# == 0)) || [[ "${!#}" == --* ]]; then
  set -- "$@" examples/quadratic.yaml
fi
exec deploy/caviar-local --workers 2 "$@"
