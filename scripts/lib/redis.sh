# shellcheck shell=bash
# Redis Cluster: 6 redis-server processes, 3 masters + 3 replicas. A 2 s node
# timeout lets a replica take over within a few seconds of its master dying.
# Cluster bus on PORT+1000 (not the default PORT+10000, which other local setups use).

REDIS_PORTS=(27001 27002 27003 27004 27005 27006)
REDIS_D="$ENGINES_DIR/redis"

redis_install() {
  apt_ensure redis-server redis-server
  apt_ensure redis-cli redis-tools
}

redis_nodes() {
  local p out=()
  for p in "${REDIS_PORTS[@]}"; do out+=("127.0.0.1:$p"); done
  (IFS=,; echo "${out[*]}")
}

redis_env() { echo "REDIS_CLUSTER_NODES=$(redis_nodes)"; }

rcli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@"; }

redis_check_port() {
  [[ " ${REDIS_PORTS[*]} " == *" $1 "* ]] || die "redis node must be one of ${REDIS_PORTS[*]} (got '$1')"
}

redis_node_alive() { pid_alive "$REDIS_D/$1.pid"; }

redis_start_node() {
  local port=$1 dir="$REDIS_D/$1"
  redis_node_alive "$port" && return 0
  require_port_free "$port" "redis node $port"
  require_port_free $((port + 1000)) "redis node $port (cluster bus)"
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<EOF
port $port
bind 127.0.0.1
daemonize no
dir $dir
logfile ""
cluster-enabled yes
cluster-port $((port + 1000))
cluster-config-file nodes.conf
cluster-node-timeout 2000
cluster-announce-ip 127.0.0.1
cluster-replica-validity-factor 0
appendonly yes
appendfsync everysec
save ""
# replicas sync at once instead of after the default 5 s diskless-sync delay
repl-diskless-sync-delay 0
# a test engine: on SIGTERM do not wait for lagging replicas
shutdown-on-sigterm now
EOF
  start_bg "$REDIS_D/$port.pid" "$REDIS_D/$port.log" redis-server "$dir/redis.conf"
}

# The node sees the whole cluster as healthy and, if it is a replica, is in sync with its master.
redis_node_ready() {
  local info
  info=$(rcli "$1" cluster info) || return 1
  [[ $info == *cluster_state:ok* && $info == *cluster_slots_ok:16384* && $info == *cluster_known_nodes:6* ]] || return 1
  info=$(rcli "$1" info replication) || return 1
  [[ $info != *role:slave* || $info == *master_link_status:up* ]]
}

redis_cluster_ready() {
  local p
  for p in "${REDIS_PORTS[@]}"; do redis_node_ready "$p" || return 1; done
}

# True when no node owns a slot yet: the cluster was never created (or lost all its state).
redis_cluster_blank() {
  local p
  for p in "${REDIS_PORTS[@]}"; do
    [[ $(rcli "$p" cluster info) == *cluster_slots_assigned:0* ]] || return 1
  done
}

redis_all_alive() {
  local p
  for p in "${REDIS_PORTS[@]}"; do redis_node_alive "$p" || return 1; done
}

redis_up() {
  local p logs=() addrs=()
  if redis_all_alive && redis_cluster_ready; then return 0; fi
  redis_install
  for p in "${REDIS_PORTS[@]}"; do
    redis_start_node "$p"
    logs+=("$REDIS_D/$p.log")
    addrs+=("127.0.0.1:$p")
  done
  for p in "${REDIS_PORTS[@]}"; do
    wait_for 20 "redis node $p answering" "$REDIS_D/$p.log" rcli "$p" ping
  done
  if redis_cluster_blank; then
    log "creating redis cluster (3 masters + 3 replicas)"
    # nodes without slots may have met each other in a half-finished earlier run: start them clean
    for p in "${REDIS_PORTS[@]}"; do rcli "$p" flushall >/dev/null; rcli "$p" cluster reset hard >/dev/null; done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >>"$REDIS_D/create.log" 2>&1 ||
      { tail -n 30 "$REDIS_D/create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  wait_for 60 "redis cluster_state:ok with all 16384 slots on all nodes (if stuck: engines.sh down redis)" \
    "${logs[*]} $REDIS_D/create.log" redis_cluster_ready
}

redis_down() {
  local p files=()
  for p in "${REDIS_PORTS[@]}"; do files+=("$REDIS_D/$p.pid"); done
  stop_pids 0 "${files[@]}"
  rm -rf "$REDIS_D"
}

redis_kill() {
  redis_check_port "$1"
  kill_pid "$REDIS_D/$1.pid"
  log "redis node $1 killed (SIGKILL)"
}

redis_start() {
  redis_check_port "$1"
  [[ -f $REDIS_D/$1/nodes.conf ]] || die "redis is not set up; run: engines.sh up redis"
  redis_install
  redis_start_node "$1"
  wait_for 30 "redis node $1 back in the cluster" "$REDIS_D/$1.log" redis_node_ready "$1"
  log "redis node $1 running and in sync ($(rcli "$1" role | head -n 1))"
}

redis_status() {
  local p role state
  for p in "${REDIS_PORTS[@]}"; do
    if redis_node_alive "$p" && role=$(rcli "$p" role 2>/dev/null | head -n 1); then
      state=$(rcli "$p" cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')
      [[ $role == slave ]] && role=replica
      status_line "redis/$p" up "127.0.0.1:$p" "pid $(live_pid "$REDIS_D/$p.pid") $role cluster_state:$state"
    else
      status_line "redis/$p" down "127.0.0.1:$p"
    fi
  done
}
