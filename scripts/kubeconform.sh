#!/usr/bin/env bash
# Offline, strict schema validation of Kubernetes 1.35 manifests with kubeconform.
# See scripts/README.md ("scripts/kubeconform.sh").
#   install                       build kubeconform and lay out the 1.35 schemas (cached, idempotent)
#   validate [FLAG...] FILE|DIR...  kubeconform -strict -summary -output json against the 1.35
#                                 schemas and k8s/crds; missing schemas are errors
#   crd-schema CRD_YAML [VERSION...]  (re)generate k8s/crds/<kind>-<group>-<version>.json from a CRD
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$SCRIPTS_DIR")
# HOME, ENGINES_CACHE, PATH with the Go toolchain, apt_ensure
# shellcheck source=lib/common.sh
. "$SCRIPTS_DIR/lib/common.sh"
log() { printf '[kubeconform %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[kubeconform] ERROR: %s\n' "$*" >&2; exit 1; }

# Pins. A new pin installs into a new directory; the old one stays until the cache is removed.
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VALIDATE_VERSION=1.35.0
KUBERNETES_VALIDATE_SHA256=768909f0cea1c7d77761c8fdea028c6aa553151dafeae099c453742ad3324b43
KUBERNETES_VERSION=1.35.0

KC_ROOT="$ENGINES_CACHE/kubeconform"
KC_BIN="$KC_ROOT/$KUBECONFORM_VERSION/bin/kubeconform"
KC_SCHEMAS="$KC_ROOT/schemas/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
K8S_SCHEMA_DIR="$KC_SCHEMAS/v$KUBERNETES_VERSION-local-strict"
CRD_DIR="$REPO_DIR/k8s/crds"
# kubeconform's template: {{ .ResourceKind }}{{ .KindSuffix }} = deployment-apps-v1, pod-v1,
# targetgroupbinding-elbv2-v1beta1 (kind, first label of the group, version; all lower case)
K8S_LOCATION="$KC_SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
CRD_LOCATION="$CRD_DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json"

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") COMMAND [ARGS]
  install                          build kubeconform $KUBECONFORM_VERSION and lay out the Kubernetes $KUBERNETES_VERSION
                                   strict schemas under $KC_ROOT (idempotent)
  validate [FLAG...] FILE|DIR...   validate manifests (.yaml/.yml/.json): -strict -summary -output json,
                                   schemas of Kubernetes $KUBERNETES_VERSION + k8s/crds, a missing schema is an error;
                                   extra kubeconform flags (e.g. -verbose) go before the files
  crd-schema CRD_YAML [VERSION...] write k8s/crds/<kind>-<group>-<version>.json (strict JSON schema)
                                   from a CustomResourceDefinition (default: its storage version)
EOF
  exit 2
}

installed() { [[ -x $KC_BIN && -f $K8S_SCHEMA_DIR/_definitions.json ]]; }

install_kubeconform() {
  go_install_once kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" "$KC_BIN"
}

install_schemas() {
  [[ -f $K8S_SCHEMA_DIR/_definitions.json ]] && return 0
  local pip=(python3 -m pip)
  mkdir -p "$ENGINES_DIR" # apt_ensure logs there
  apt_ensure python3 python3
  if ! "${pip[@]}" --version >/dev/null 2>&1; then
    apt_ensure pip3 python3-pip
    pip=(pip3)
  fi
  local tmp wheel t0=$SECONDS
  mkdir -p "$KC_ROOT"
  tmp=$(mktemp -d "$KC_ROOT/.schemas.XXXXXX")
  log "fetching kubernetes-validate $KUBERNETES_VALIDATE_VERSION (pip download) for the Kubernetes $KUBERNETES_VERSION schemas"
  echo "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION --hash=sha256:$KUBERNETES_VALIDATE_SHA256" >"$tmp/requirements.txt"
  "${pip[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
    -r "$tmp/requirements.txt" -d "$tmp/dl" >"$tmp/pip.log" 2>&1 ||
    { tail -n 30 "$tmp/pip.log" >&2; die "pip download kubernetes-validate==$KUBERNETES_VALIDATE_VERSION failed"; }
  wheel=$(echo "$tmp"/dl/kubernetes_validate-"$KUBERNETES_VALIDATE_VERSION"-*.whl)
  [[ -f $wheel ]] || die "no kubernetes-validate wheel in $tmp/dl"
  python3 "$SCRIPTS_DIR/lib/kubeconform.py" k8s-schemas "$wheel" "v$KUBERNETES_VERSION-local-strict" \
    "$tmp/out/v$KUBERNETES_VERSION-local-strict"
  rm -rf "$KC_SCHEMAS"
  mkdir -p "$(dirname "$KC_SCHEMAS")"
  mv "$tmp/out" "$KC_SCHEMAS"
  rm -rf "$tmp"
  log "schemas ready in $((SECONDS - t0)) s: $K8S_SCHEMA_DIR"
}

cmd_install() {
  installed && return 0
  mkdir -p "$KC_ROOT"
  exec 8>"$KC_ROOT/.lock"
  flock -w 1800 8 || die "could not lock $KC_ROOT/.lock within 30 min"
  # a concurrent install may have finished while we waited
  install_kubeconform
  install_schemas
  exec 8>&-
}

cmd_validate() {
  (($#)) || usage
  installed || cmd_install
  exec "$KC_BIN" -strict -summary -output json -n 2 -kubernetes-version "$KUBERNETES_VERSION" \
    -schema-location "$K8S_LOCATION" -schema-location "$CRD_LOCATION" "$@"
}

cmd_crd_schema() {
  (($# >= 1)) || usage
  cmd_install
  python3 "$SCRIPTS_DIR/lib/kubeconform.py" crd-schema "$1" "$CRD_DIR" "$K8S_SCHEMA_DIR/_definitions.json" "${@:2}"
}

cmd=${1:-}
(($#)) && shift
case $cmd in
  install) cmd_install "$@" ;;
  validate) cmd_validate "$@" ;;
  crd-schema) cmd_crd_schema "$@" ;;
  *) usage ;;
esac
