#!/usr/bin/env bash
# Installs what `npm run plan` and its tests use from Debian when missing: Graphviz (dot) to draw the
# pictures, Chromium to screenshot them in the tests. Usage: scripts/plan-tools.sh [graphviz] [chromium]
set -euo pipefail
want=("$@")
[[ ${#want[@]} -eq 0 ]] && want=(graphviz chromium)
missing=()
for tool in "${want[@]}"; do
  case "$tool" in
    graphviz) command -v dot >/dev/null 2>&1 || missing+=(graphviz fonts-dejavu-core) ;;
    chromium) command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core) ;;
    *) echo "plan-tools.sh: unknown tool $tool (graphviz, chromium)" >&2; exit 2 ;;
  esac
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "plan-tools.sh: ${missing[*]} missing; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
