#!/usr/bin/env bash
# The staged SDK installs offline into a venv that sees Debian's grpcio and
# protobuf: pip install --no-index --no-build-isolation, as the README says.
#   pip_install_test.sh BUILD/python
set -euo pipefail
staged=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A copy, so pip's build files never land in the build tree.
cp -r "$staged/caviar" "$staged/pyproject.toml" "$tmp/" && mkdir "$tmp/src"
mv "$tmp/caviar" "$tmp/pyproject.toml" "$tmp/src/"
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$tmp/venv/bin/pip" install --no-index --no-build-isolation -q "$tmp/src"
rm -rf "$tmp/src"  # The installed copy must stand alone.
cd "$tmp"
"$tmp/venv/bin/python" - "$tmp/venv" <<'PY'
import sys
import caviar
from caviar.v1 import service_pb2_grpc, study_pb2
assert caviar.__file__.startswith(sys.argv[1]), caviar.__file__
assert study_pb2.RUN_KIND_EXTERNAL == 3
assert hasattr(service_pb2_grpc, "WorkerServiceStub")
print("installed:", caviar.__file__)
PY
