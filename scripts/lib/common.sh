# shellcheck shell=bash
# Shared helpers for scripts/engines.sh. Sourced, never executed.

# CI may run without HOME; the cache still belongs in the user's home
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
ENGINES_DIR="${ENGINES_DIR:-/tmp/platform-engines}"
ENGINES_CACHE="${ENGINES_CACHE:-$HOME/.cache/platform-engines}"
ENV_FILE="$ENGINES_DIR/engines.env"
# down deletes state below it: refuse a root or relative path
[[ $ENGINES_DIR == /?* && $ENGINES_DIR != *..* ]] || { echo "ENGINES_DIR must be an absolute path, got '$ENGINES_DIR'" >&2; exit 2; }
ALL_ENGINES=(etcd redis mysql opensearch s3 otel k8s)
# `up` without names: the data engines. otel (an OpenTelemetry Collector for the trace tests) and
# k8s (a Kubernetes control plane), both built from source the first time, only when named.
DEFAULT_UP_ENGINES=(etcd redis mysql opensearch s3)
# daemons such as mariadbd live in sbin, which a non-login PATH may lack
[[ :$PATH: == *:/usr/sbin:* ]] || PATH="$PATH:/usr/sbin:/sbin"
# so does the Go toolchain's usual home
[[ :$PATH: == *:/usr/local/go/bin:* || ! -d /usr/local/go/bin ]] || PATH="$PATH:/usr/local/go/bin"

log() { printf '[engines %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[engines] ERROR: %s\n' "$*" >&2; exit 1; }

# Builds one Go binary into DEST (atomically: a half-built binary never lands there), unless DEST
# exists: `install` a PACKAGE@VERSION (with build TAGS if given), or `build` the main module in DIR
# (its go.mod and go.sum pin every dependency).
# Usage: go_binary_once NAME DEST NOTE install PACKAGE@VERSION [TAGS] | build DIR
go_binary_once() {
  local name=$1 dest=$2 note=$3 mode=$4 what=$5 tags=${6:-} tmp built t0=$SECONDS
  [[ -x $dest ]] && return 0
  command -v go >/dev/null 2>&1 || die "Go is needed to build $name (go $mode $what)"
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp -d "$(dirname "$dest")/.$name-build.XXXXXX")
  log "building $name with go $mode $what ($note; cached in $(dirname "$dest"))"
  if [[ $mode == install ]]; then
    built=$tmp/$(basename "${what%@*}")
    (cd / && GOBIN=$tmp CGO_ENABLED=0 nice go install -trimpath -ldflags '-s -w' ${tags:+-tags "$tags"} "$what") >"$tmp/build.log" 2>&1
  else
    built=$tmp/$name
    (cd "$what" && CGO_ENABLED=0 nice go build -buildvcs=false -trimpath -ldflags '-s -w' -o "$built" .) >"$tmp/build.log" 2>&1
  fi || { tail -n 30 "$tmp/build.log" >&2; die "building $name failed (log: $tmp/build.log)"; }
  mv "$built" "$dest"
  rm -rf "$tmp"
  log "$name built in $((SECONDS - t0)) s"
}

# go_binary_once for `go install`. Usage: go_install_once NAME PACKAGE@VERSION DEST [NOTE [BUILD_TAGS]]
go_install_once() { go_binary_once "$1" "$3" "${4:-one-off}" install "$2" "${5:-}"; }

# Start time of PID in clock ticks since boot: with the pid it names one process for good.
pid_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086 # split the fields on purpose
  set -- $stat
  echo "${20}"
}

# Start a detached background process (own session, no inherited lock fd,
# stdio to the log) and record "PID STARTTIME". Usage: start_bg PIDFILE LOGFILE CMD...
start_bg() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  printf '\n=== %s start: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$logfile"
  setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo "$! $(pid_starttime $!)" >"$pidfile"
}

# Print the pid recorded in PIDFILE if that very process is still alive and no zombie.
live_pid() {
  local pid start
  [[ -s $1 ]] || return 1
  read -r pid start <"$1"
  [[ $pid =~ ^[0-9]+$ && -n $start && $(pid_starttime "$pid") == "$start" ]] || return 1
  pid_running "$pid" || return 1
  echo "$pid"
}

# True while PID exists and is no zombie (whoever reaps our orphans may take a while).
pid_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

pid_alive() { live_pid "$1" >/dev/null; }

# Stop the processes recorded in PIDFILEs and wait until they are gone: SIGTERM
# all, SIGKILL what is left after TIMEOUT s. TIMEOUT 0 sends SIGKILL at once (for
# state that is deleted next anyway). Usage: stop_pids TIMEOUT PIDFILE...
stop_pids() {
  local timeout=$1 f pid i pids=() alive sig=TERM; shift
  ((timeout > 0)) || sig=KILL
  for f in "$@"; do
    pid=$(live_pid "$f") && kill -"$sig" "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$f"
  done
  for ((i = 0; ${#pids[@]} && i < (timeout + 5) * 10; i++)); do
    if ((i == timeout * 10 && timeout > 0)); then
      log "pids ${pids[*]} did not stop in ${timeout}s, sending SIGKILL"
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    sleep 0.1
    alive=()
    for pid in "${pids[@]}"; do pid_running "$pid" && alive+=("$pid"); done
    pids=("${alive[@]}")
  done
}

# SIGKILL the process in PIDFILE and wait until it is gone.
kill_pid() {
  local pidfile=$1 pid i
  pid=$(live_pid "$pidfile") || die "not running (no live process in $pidfile)"
  kill -KILL "$pid"
  for ((i = 0; i < 50; i++)); do pid_running "$pid" || break; sleep 0.1; done
  rm -f "$pidfile"
}

# Poll CMD... every 0.5 s until it succeeds or TIMEOUT seconds pass. On timeout,
# print the tail of LOGFILE(s) and die. Usage: wait_for TIMEOUT "what" "log1 log2" CMD...
wait_for() {
  local timeout=$1 what=$2 logs=$3; shift 3
  local deadline=$((SECONDS + timeout)) f
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      printf '[engines] ERROR: timed out after %ss waiting for %s\n' "$timeout" "$what" >&2
      for f in $logs; do
        [[ -f $f ]] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 40 "$f" >&2
      done
      exit 1
    fi
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_port_free() {
  local port=$1 who=$2
  ! port_open "$port" || die "127.0.0.1:$port is already in use by another process (needed by $who); stop it first"
}

# One status line. Usage: status_line NAME up|down ADDRESS [DETAIL...]
status_line() {
  local name=$1 state=$2 addr=$3 line; shift 3
  line=$(printf '%-14s %-5s %-22s %s' "$name" "$state" "$addr" "$*")
  echo "${line%"${line##*[! ]}"}"
}

# Status line of a one-process engine: up when the process lives and READY_CMD succeeds.
# Usage: process_status NAME PIDFILE ADDRESS DETAIL READY_CMD...
process_status() {
  local name=$1 pidfile=$2 addr=$3 detail=$4 pid; shift 4
  if pid=$(live_pid "$pidfile") && "$@" >/dev/null 2>&1; then
    status_line "$name" up "$addr" "pid $pid $detail"
  else
    status_line "$name" down "$addr"
  fi
}

# Install Debian packages if a command is missing. Usage: apt_ensure CMD PKG...
APT_UPDATED=
apt_ensure() {
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [[ $(id -u) == 0 ]] || die "'$cmd' is missing; install Debian packages: $* (needs root)"
  log "installing Debian packages: $*"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends)
  if ! "${apt[@]}" install "$@" >>"$ENGINES_DIR/apt.log" 2>&1; then
    if [[ -z $APT_UPDATED ]]; then
      log "apt-get install failed, running apt-get update and retrying"
      "${apt[@]}" update >>"$ENGINES_DIR/apt.log" 2>&1 || true
      APT_UPDATED=1
    fi
    "${apt[@]}" install "$@" >>"$ENGINES_DIR/apt.log" 2>&1 || {
      tail -n 30 "$ENGINES_DIR/apt.log" >&2
      die "apt-get install $* failed (see $ENGINES_DIR/apt.log)"
    }
  fi
  hash -r
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' still missing after installing $*"
}

# export KEY=value, single-quoted only when the value needs it (keeps the file dotenv-friendly).
env_line() {
  if [[ $2 =~ ^[A-Za-z0-9_./:,@=+-]*$ ]]; then printf 'export %s=%s\n' "$1" "$2"
  else printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; fi
}

# Rewrite engines.env from scratch: the variables of every engine that has state
# (started and not brought down). Each engine's <name>_env prints KEY=value lines.
write_env() {
  local tmp e kv
  tmp=$(mktemp "$ENGINES_DIR/.env.XXXXXX")
  {
    echo "# written by scripts/engines.sh; source it: . $ENV_FILE"
    for e in "${ALL_ENGINES[@]}"; do
      [[ -d $ENGINES_DIR/$e ]] || continue
      while IFS= read -r kv; do
        env_line "${kv%%=*}" "${kv#*=}"
      done < <("${e}_env")
    done
  } >"$tmp"
  chmod 644 "$tmp"
  # leave an unchanged file alone (its mtime too)
  if cmp -s "$tmp" "$ENV_FILE"; then rm -f "$tmp"; else mv "$tmp" "$ENV_FILE"; fi
}
