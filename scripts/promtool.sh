#!/usr/bin/env bash
# promtool (Prometheus 3.x) for the alerting-rule tests: `check rules` and `test rules` on the
# rule files that lib/observability generates, `check config` on the scraper's configuration; and
# amtool (Alertmanager) for `check-config` of the alert manager definition. Built with Go once,
# cached beside the engines.
#   install          build promtool (cached, idempotent) and print its path
#   install-amtool   build amtool (cached, idempotent) and print its path
#   amtool ARGS...   run amtool ARGS (installs first when needed)
#   ARGS...          run promtool ARGS (installs first when needed)
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# HOME, ENGINES_CACHE, PATH with the Go toolchain, go_install_once
# shellcheck source=lib/common.sh
. "$SCRIPTS_DIR/lib/common.sh"
log() { printf '[promtool %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Prometheus 3.16's Go module (Prometheus 3.x tags its module v0.3MM.P for v3.MM.P).
# A new pin installs into a new directory; the old one stays until the cache is removed.
PROMETHEUS_MODULE_VERSION=v0.316.0
# Service discovery: only Kubernetes (what the managed scraper's configuration uses, for
# `check config`); the cloud SDKs of the other mechanisms would triple the build.
PROMETHEUS_BUILD_TAGS=remove_all_sd,enable_kubernetes_sd
PT_ROOT="$ENGINES_CACHE/promtool"
PT_BIN="$PT_ROOT/$PROMETHEUS_MODULE_VERSION-kubernetes-sd/bin/promtool"
# The Alertmanager that Prometheus 3.16 itself requires (its go.mod), so the two share a build cache.
ALERTMANAGER_VERSION=v0.34.1
AM_BIN="$PT_ROOT/alertmanager-$ALERTMANAGER_VERSION/bin/amtool"

cmd_install() {
  [[ -x $PT_BIN ]] || {
    mkdir -p "$PT_ROOT"
    exec 8>"$PT_ROOT/.lock"
    flock -w 3600 8 || die "could not lock $PT_ROOT/.lock within 60 min"
    # a concurrent install may have finished while we waited
    go_install_once promtool "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" "$PT_BIN" \
      "one-off, several minutes" "$PROMETHEUS_BUILD_TAGS"
    exec 8>&-
  }
  echo "$PT_BIN"
}

cmd_install_amtool() {
  [[ -x $AM_BIN ]] || {
    mkdir -p "$PT_ROOT"
    exec 8>"$PT_ROOT/.lock"
    flock -w 3600 8 || die "could not lock $PT_ROOT/.lock within 60 min"
    go_install_once amtool "github.com/prometheus/alertmanager/cmd/amtool@$ALERTMANAGER_VERSION" "$AM_BIN" "one-off, a few minutes"
    exec 8>&-
  }
  echo "$AM_BIN"
}

case ${1:-} in
  '') echo "usage: $(basename "$0") install | install-amtool | amtool AMTOOL_ARGS... | PROMTOOL_ARGS..." >&2; exit 2 ;;
  install) cmd_install ;;
  install-amtool) cmd_install_amtool ;;
  amtool) shift; cmd_install_amtool >/dev/null; exec "$AM_BIN" "$@" ;;
  *) cmd_install >/dev/null; exec "$PT_BIN" "$@" ;;
esac
