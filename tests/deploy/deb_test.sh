#!/usr/bin/env bash
# The .deb, really installed: builds caviar_<version>_amd64.deb with CPack,
# checks its control data (dpkg-shlibdeps dependencies, description, units
# installed but not enabled, stripped binaries), runs lintian (no errors),
# then builds a clean Debian 12 minbase root with mmdebstrap, installs the
# .deb there with apt (which pulls the dependencies from Debian), and runs a
# study inside it: coordinator + 2 workers + CLI, all from /usr/bin, on
# 127.0.0.1. The same steps as packaging/Dockerfile.
# Prints the package's size, dependencies and the time each step took.
#   deb_test.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/lib.sh"
need cpack dpkg-deb lintian mmdebstrap file
T="$(mktemp -d /tmp/caviar-deb-XXXXXX)"
cleanup() {
  local rc=$?
  ((rc != 0)) && [[ -f "$T/chroot.log" ]] && tail -40 "$T/chroot.log" >&2
  rm -rf "$T"
}
trap cleanup EXIT
step() { echo "$TEST_NAME: $* ($((SECONDS))s)" >&2; }

# 1. The package.
(cd "$BUILD" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) ||
  fail "cpack: $(cat "$T/cpack.log")"
VERSION="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")"
DEB="$T/pkg/caviar_${VERSION}_amd64.deb"
[[ -f "$DEB" ]] || fail "no $DEB: $(ls "$T/pkg")"
DEPENDS="$(dpkg-deb -f "$DEB" Depends)"
step "built $(basename "$DEB"): $(du -k "$DEB" | cut -f1) KiB; Depends: $DEPENDS"
for lib in libgrpc++ libprotobuf libsqlite3 libyaml-cpp libc6; do
  grep -q "$lib" <<<"$DEPENDS" || fail "Depends lacks $lib (dpkg-shlibdeps): $DEPENDS"
done
[[ "$(dpkg-deb -f "$DEB" Description | wc -l)" -ge 5 ]] || fail "short description"
dpkg-deb -c "$DEB" >"$T/contents"
for f in usr/bin/caviar usr/bin/caviar-coordinator usr/bin/caviar-worker \
  usr/share/man/man1/caviar.1.gz usr/share/man/man1/caviar-worker.1.gz \
  usr/share/man/man8/caviar-coordinator.8.gz usr/share/doc/caviar/copyright \
  usr/share/doc/caviar/changelog.gz usr/share/doc/caviar/README.md \
  usr/share/doc/caviar/examples/quadratic.yaml lib/systemd/system/caviar-coordinator.service \
  'lib/systemd/system/caviar-worker@.service' etc/caviar/coordinator.conf; do
  grep -q " \./$f\$" "$T/contents" || fail "the package lacks /$f"
done
# Installed, not enabled: no links under /etc/systemd, no maintainer scripts.
! grep -q "etc/systemd" "$T/contents" || fail "the package enables a unit"
dpkg-deb -e "$DEB" "$T/control"
for s in postinst preinst prerm postrm; do
  [[ ! -e "$T/control/$s" ]] || fail "unexpected maintainer script $s"
done
dpkg-deb -x "$DEB" "$T/extract"
! file "$T/extract/usr/bin/"* | grep "not stripped" || fail "unstripped binaries"
if ! lintian --fail-on error --no-tag-display-limit "$DEB" >"$T/lintian.log" 2>&1; then
  fail "lintian reports errors: $(cat "$T/lintian.log")"
fi
step "lintian: no errors ($(grep -c '^W:' "$T/lintian.log" || true) warnings)"

# 2. A clean Debian 12, the .deb installed by apt, a study run inside.
cat >"$T/run-study.sh" <<'INNER'
set -eu
cd /tmp
caviar-coordinator --listen 127.0.0.1:50297 --db /tmp/caviar.db >/tmp/coordinator.log 2>&1 &
C=$!
export CAVIAR_COORDINATOR=127.0.0.1:50297
i=0
until caviar studies >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat /tmp/coordinator.log; exit 1; }; sleep 0.1
done
cat >/tmp/study.yaml <<'SPEC'
name: chroot
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: x, double: {min: 0, max: 1}}
budget: {max_trials: 6}
command:
  argv: [sh, -c, "echo caviar: step=1 score={x}"]
SPEC
caviar submit /tmp/study.yaml
caviar-worker --coordinator $CAVIAR_COORDINATOR --study chroot >/tmp/w1.log 2>&1 &
caviar-worker --coordinator $CAVIAR_COORDINATOR --study chroot >/tmp/w2.log 2>&1 &
caviar wait chroot >/dev/null
caviar trials chroot --format csv >/tmp/trials.csv
wait %2 %3
kill -TERM $C
wait $C
n=$(grep -c ",SUCCEEDED," /tmp/trials.csv)
echo "chroot study: $n SUCCEEDED"
[ "$n" = 6 ]
man -w caviar-coordinator >/dev/null 2>&1 || [ -f /usr/share/man/man8/caviar-coordinator.8.gz ]
INNER
START=$SECONDS
mmdebstrap --variant=minbase --mode=root --quiet bookworm "$T/root" \
  --customize-hook="copy-in $DEB /tmp" \
  --customize-hook="copy-in $T/run-study.sh /tmp" \
  --customize-hook="chroot \"\$1\" sh -c 'apt-get install -y -qq /tmp/$(basename "$DEB") >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }'" \
  --customize-hook="chroot \"\$1\" sh /tmp/run-study.sh" \
  >"$T/chroot.log" 2>&1 || fail "in the Debian 12 root: $(tail -30 "$T/chroot.log")"
grep -q "chroot study: 6 SUCCEEDED" "$T/chroot.log" || fail "$(cat "$T/chroot.log")"
step "clean bookworm root + apt install of the .deb + a 6-trial study: $((SECONDS - START)) s"
echo "$TEST_NAME: PASSED"
