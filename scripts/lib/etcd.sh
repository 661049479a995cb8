# shellcheck shell=bash
# etcd: 3-member cluster from Debian's etcd-server (3.4), short raft timeouts so
# a killed member's leadership moves within about a second.

ETCD_CLIENT_PORTS=(23791 23792 23793)
ETCD_PEER_PORTS=(23801 23802 23803)
ETCD_D="$ENGINES_DIR/etcd"

etcd_install() {
  apt_ensure etcd etcd-server
  apt_ensure etcdctl etcd-client
}

etcd_endpoints() {
  local p out=()
  for p in "${ETCD_CLIENT_PORTS[@]}"; do out+=("http://127.0.0.1:$p"); done
  (IFS=,; echo "${out[*]}")
}

etcd_env() { echo "ETCD_ENDPOINTS=$(etcd_endpoints)"; }

# env -i: etcd and etcdctl read ETCD_*/ETCDCTL_* variables as flags (ETCD_ENDPOINTS from engines.env would confuse them).
etcdctl_() { env -i PATH="$PATH" ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=3s "$@"; }

etcd_check_member() {
  [[ $1 =~ ^[123]$ ]] || die "etcd member must be 1, 2 or 3 (got '$1')"
}

etcd_member_alive() { pid_alive "$ETCD_D/$1.pid"; }

etcd_start_member() {
  local n=$1 i=$(($1 - 1)) cluster
  etcd_member_alive "$n" && return 0
  require_port_free "${ETCD_CLIENT_PORTS[$i]}" "etcd member $n"
  require_port_free "${ETCD_PEER_PORTS[$i]}" "etcd member $n"
  cluster="m1=http://127.0.0.1:${ETCD_PEER_PORTS[0]},m2=http://127.0.0.1:${ETCD_PEER_PORTS[1]},m3=http://127.0.0.1:${ETCD_PEER_PORTS[2]}"
  mkdir -p "$ETCD_D/m$n"
  chmod 700 "$ETCD_D/m$n"
  # With an existing data dir etcd ignores --initial-cluster* and rejoins with its own identity.
  start_bg "$ETCD_D/$n.pid" "$ETCD_D/$n.log" env -i PATH="$PATH" etcd \
    --name "m$n" --data-dir "$ETCD_D/m$n" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORTS[$i]}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORTS[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORTS[$i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORTS[$i]}" \
    --initial-cluster "$cluster" --initial-cluster-token platform-engines \
    --initial-cluster-state new \
    --heartbeat-interval 100 --election-timeout 600 \
    --snapshot-count 10000 --quota-backend-bytes 1073741824 --logger zap --log-level warn
}

etcd_member_healthy() { etcdctl_ --endpoints="http://127.0.0.1:${ETCD_CLIENT_PORTS[$(($1 - 1))]}" endpoint health; }

etcd_cluster_healthy() {
  etcdctl_ --endpoints="$(etcd_endpoints)" endpoint health || return 1
  # exactly one member reports itself leader (column 5 of the simple status output)
  local leaders
  leaders=$(etcdctl_ --endpoints="$(etcd_endpoints)" endpoint status -w simple | awk -F', ' '$5 == "true"' | wc -l)
  [[ $leaders == 1 ]]
}

etcd_up() {
  local n logs=()
  if etcd_member_alive 1 && etcd_member_alive 2 && etcd_member_alive 3 &&
    etcd_cluster_healthy >/dev/null 2>&1; then return 0; fi
  etcd_install
  for n in 1 2 3; do etcd_start_member "$n"; logs+=("$ETCD_D/$n.log"); done
  wait_for 60 "etcd cluster healthy ($(etcd_endpoints))" "${logs[*]}" etcd_cluster_healthy
}

etcd_down() {
  stop_pids 0 "$ETCD_D"/{1,2,3}.pid
  rm -rf "$ETCD_D"
}

etcd_kill() {
  etcd_check_member "$1"
  kill_pid "$ETCD_D/$1.pid"
  log "etcd member $1 killed (SIGKILL)"
}

etcd_start() {
  etcd_check_member "$1"
  [[ -d $ETCD_D/m$1 ]] || die "etcd is not set up; run: engines.sh up etcd"
  etcd_install
  etcd_start_member "$1"
  wait_for 30 "etcd member $1 healthy" "$ETCD_D/$1.log" etcd_member_healthy "$1"
  log "etcd member $1 running and healthy"
}

etcd_status() {
  local n port detail leaders
  leaders=$(etcdctl_ --endpoints="$(etcd_endpoints)" endpoint status -w simple 2>/dev/null | awk -F', ' '$5 == "true" {print $1}' || true)
  for n in 1 2 3; do
    port=${ETCD_CLIENT_PORTS[$((n - 1))]}
    if etcd_member_alive "$n" && etcd_member_healthy "$n" >/dev/null 2>&1; then
      detail="pid $(live_pid "$ETCD_D/$n.pid")"
      [[ $leaders == *":$port"* ]] && detail+=" leader"
      status_line "etcd/$n" up "127.0.0.1:$port" "$detail"
    else
      status_line "etcd/$n" down "127.0.0.1:$port"
    fi
  done
}
