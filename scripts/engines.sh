#!/usr/bin/env bash
# Start and stop real local data engines (and a Kubernetes control plane, `k8s`) as plain
# processes, loopback only, for tests and local runs. See scripts/README.md.
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$SCRIPTS_DIR/lib/common.sh"
for engine in "${ALL_ENGINES[@]}"; do
  # shellcheck source=/dev/null
  . "$SCRIPTS_DIR/lib/$engine.sh"
done

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") COMMAND [ARGS]
  up [ENGINE...]        start what is not running and healthy, wait until ready, write the env file
                        (default: ${DEFAULT_UP_ENGINES[*]}; otel and k8s only when named)
  down [ENGINE...]      stop and delete the engines' state (default: all)
  status                one line per engine or member: up/down
  env                   print $ENV_FILE
  kill etcd N | kill redis PORT     SIGKILL etcd member N (1..3) or one redis node
  start etcd N | start redis PORT   restart it with its data; it rejoins
engines: ${ALL_ENGINES[*]} (default: all)
state: ENGINES_DIR=$ENGINES_DIR   downloads and builds: ENGINES_CACHE=$ENGINES_CACHE
EOF
  exit 2
}

# Validate engine names. Usage: pick_engines DEFAULT_ARRAY_NAME [ENGINE...]; none means the default list.
pick_engines() {
  local e
  local -n default=$1
  shift
  (($#)) || set -- "${default[@]}"
  for e in "$@"; do
    [[ " ${ALL_ENGINES[*]} " == *" $e "* ]] || die "unknown engine '$e' (known: ${ALL_ENGINES[*]})"
  done
  PICKED=("$@")
}

# One mutating command at a time (two concurrent `up` calls must not double-start).
take_lock() {
  mkdir -p "$ENGINES_DIR"
  exec 9>"$ENGINES_DIR/.lock"
  flock -w 1800 9 || die "could not lock $ENGINES_DIR/.lock within 30 min"
}

cmd_up() {
  local e t0 start
  start=$(date +%s%N)
  pick_engines DEFAULT_UP_ENGINES "$@"
  take_lock
  # slow starters (OpenSearch) get going first and are waited for in turn
  for e in "${PICKED[@]}"; do
    mkdir -p "$ENGINES_DIR/$e"
    if declare -F "${e}_launch" >/dev/null; then "${e}_launch"; fi
  done
  for e in "${PICKED[@]}"; do
    t0=$(date +%s%N)
    "${e}_up"
    log "$e ready ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
  done
  write_env
  log "up: ${PICKED[*]} ready in $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

cmd_down() {
  local e
  pick_engines ALL_ENGINES "$@"
  take_lock
  for e in "${PICKED[@]}"; do
    "${e}_down"
    log "$e down"
  done
  write_env
}

cmd_fault() {
  local action=$1 e=${2:-} member=${3:-}
  [[ ($e == etcd || $e == redis) && -n $member ]] || usage
  take_lock
  "${e}_${action}" "$member"
}

cmd=${1:-}
(($#)) && shift
case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) for engine in "${ALL_ENGINES[@]}"; do "${engine}_status"; done ;;
  env) [[ -f $ENV_FILE ]] || die "no $ENV_FILE yet; run: $0 up"; cat "$ENV_FILE" ;;
  kill | start) cmd_fault "$cmd" "$@" ;;
  *) usage ;;
esac
