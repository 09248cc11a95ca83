#!/usr/bin/env bash
# deploy/k8s offline: every kustomization renders with `kubectl kustomize`
# (whatever kubectl is installed: the manifests keep to what both Debian 12's
# kubectl 1.20 and current kustomize v5 accept), every rendered object passes
# the Kubernetes schemas and a strict field-name check (validate.mjs), and
# caviar's invariants hold (invariants.mjs). Two broken copies (a misspelled
# field, two coordinator replicas) must be refused, so the checks can fail.
#   k8s_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
SRC="$(cd "$2" && pwd)"
HERE="$SRC/tests/deploy/k8s"
fail() {
  echo "k8s_test: FAILED: $*" >&2
  exit 1
}
command -v kubectl >/dev/null || fail "kubectl missing: run bash tests/deploy/setup.sh"
[[ -d "$HERE/node_modules/kubernetes-models" ]] ||
  fail "npm packages missing: run bash tests/deploy/setup.sh"
T="$(mktemp -d /tmp/caviar-k8s-XXXXXX)"
trap 'rm -rf "$T"' EXIT
RENDERED=()
for k in coordinator workers-job workers-deployment overlays/example; do
  out="$T/$(tr / - <<<"$k").yaml"
  kubectl kustomize "$SRC/deploy/k8s/$k" >"$out" 2>"$T/warnings" ||
    fail "kubectl kustomize deploy/k8s/$k: $(cat "$T/warnings")"
  RENDERED+=("$out")
done
node "$HERE/validate.mjs" "${RENDERED[@]}" || fail "schema validation"
node "$HERE/invariants.mjs" "${RENDERED[@]}" || fail "invariants"
# Negative controls.
sed 's/readinessProbe:/readinesProbe:/' "$T/overlays-example.yaml" >"$T/typo.yaml"
! node "$HERE/validate.mjs" "$T/typo.yaml" >/dev/null || fail "a misspelled field passed"
sed 's/^  replicas: 1$/  replicas: 2/' "$T/overlays-example.yaml" >"$T/two.yaml"
! node "$HERE/invariants.mjs" "$T/two.yaml" >/dev/null || fail "two coordinator replicas passed"
echo "k8s_test: PASSED ($(kubectl version --client 2>/dev/null | head -1))"
