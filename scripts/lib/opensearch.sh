# shellcheck shell=bash
# OpenSearch: one single-node cluster from the integ-test zip on Maven Central (no
# bundled JDK, no security plugin: plain HTTP), run on the machine's JDK (17 works for 2.x).

OS_D="$ENGINES_DIR/opensearch"
OS_HTTP_PORT=29200
OS_TRANSPORT_PORT=29300
OPENSEARCH_VERSION=2.19.4
OS_ZIP="$ENGINES_CACHE/opensearch-$OPENSEARCH_VERSION.zip"
# OpenSearch refuses to run as root: as root we run it as this system user.
OS_USER=platform-engines

opensearch_env() { echo "OPENSEARCH_URL=http://127.0.0.1:$OS_HTTP_PORT"; }

opensearch_java_home() {
  local java
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME"; return; fi
  java=$(command -v java) || return 1
  java=$(readlink -f "$java")
  dirname "$(dirname "$java")"
}

opensearch_install() {
  apt_ensure curl curl
  apt_ensure unzip unzip
  opensearch_java_home >/dev/null || apt_ensure java openjdk-17-jre-headless
  [[ -s $OS_ZIP ]] && return 0
  apt_ensure mvn maven
  local tmp t0=$SECONDS
  mkdir -p "$ENGINES_CACHE"
  tmp=$(mktemp -d "$ENGINES_CACHE/.opensearch.XXXXXX")
  log "fetching OpenSearch $OPENSEARCH_VERSION integ-test zip with Maven (one-off; cached in $ENGINES_CACHE)"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    "-Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip" \
    "-DoutputDirectory=$tmp" >"$tmp/mvn.log" 2>&1 ||
    { tail -n 30 "$tmp/mvn.log" >&2; die "fetching OpenSearch with Maven failed"; }
  mv "$tmp/opensearch-$OPENSEARCH_VERSION.zip" "$OS_ZIP"
  rm -rf "$tmp"
  log "OpenSearch zip fetched in $((SECONDS - t0)) s"
}

# Yellow suffices: an index created with explicit replicas stays yellow on one node.
opensearch_ready() {
  curl -sf -o /dev/null --max-time 5 \
    "http://127.0.0.1:$OS_HTTP_PORT/_cluster/health?wait_for_status=yellow&timeout=2s"
}

opensearch_configure() {
  local home="$OS_D/home/opensearch-$OPENSEARCH_VERSION" conf="$OS_D/config"
  rm -rf "${OS_D:?}/home" "$conf"
  mkdir -p "$OS_D/home" "$conf" "$OS_D/data" "$OS_D/logs" "$OS_D/tmp"
  unzip -q "$OS_ZIP" -d "$OS_D/home"
  cp "$home/config/log4j2.properties" "$conf/"
  mkdir -p "$conf/jvm.options.d"
  # 512 MB heap; the shipped options point dumps and GC logs at paths relative to the cwd.
  sed -e 's/^-Xms1g$/-Xms512m/' -e 's/^-Xmx1g$/-Xmx512m/' \
    -e "s#HeapDumpPath=data#HeapDumpPath=$OS_D/data#" -e "s#file=logs/gc.log#file=$OS_D/logs/gc.log#" \
    -e "s#ErrorFile=logs/#ErrorFile=$OS_D/logs/#" "$home/config/jvm.options" >"$conf/jvm.options"
  cat >"$conf/opensearch.yml" <<EOF
cluster.name: platform-engines
node.name: os1
path.data: $OS_D/data
path.logs: $OS_D/logs
network.host: 127.0.0.1
http.port: $OS_HTTP_PORT
transport.port: $OS_TRANSPORT_PORT
discovery.type: single-node
# a busy or nearly full dev disk must not turn indices read-only
cluster.routing.allocation.disk.threshold_enabled: false
EOF
}

# Start the node without waiting, so `up` can bring the other engines up meanwhile.
opensearch_launch() {
  pid_alive "$OS_D/opensearch.pid" && return 0
  opensearch_install
  require_port_free "$OS_HTTP_PORT" "OpenSearch (http)"
  require_port_free "$OS_TRANSPORT_PORT" "OpenSearch (transport)"
  log "starting OpenSearch $OPENSEARCH_VERSION"
  [[ -d $OS_D/home ]] || opensearch_configure
  local run=()
  if [[ $(id -u) == 0 ]]; then
    id "$OS_USER" >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OS_USER"
    chmod a+x "$ENGINES_DIR"
    chown -R "$OS_USER:" "$OS_D"
    run=(setpriv --reuid "$OS_USER" --regid "$OS_USER" --init-groups)
  fi
  start_bg "$OS_D/opensearch.pid" "$OS_D/opensearch.log" "${run[@]}" env -i PATH="$PATH" \
    OPENSEARCH_JAVA_HOME="$(opensearch_java_home)" OPENSEARCH_PATH_CONF="$OS_D/config" \
    OPENSEARCH_TMPDIR="$OS_D/tmp" "$OS_D/home/opensearch-$OPENSEARCH_VERSION/bin/opensearch"
}

opensearch_up() {
  if pid_alive "$OS_D/opensearch.pid" && opensearch_ready; then return 0; fi
  opensearch_launch
  wait_for 180 "OpenSearch on 127.0.0.1:$OS_HTTP_PORT (health yellow)" "$OS_D/opensearch.log" opensearch_ready
  # One node holds no replicas: without this every new index stays yellow. A legacy
  # template (cluster.default_number_of_replicas is not applied by 2.19) yields to
  # any composable template a test defines.
  curl -sf -o /dev/null --max-time 10 -X PUT -H 'Content-Type: application/json' \
    "http://127.0.0.1:$OS_HTTP_PORT/_template/platform-engines-no-replicas" \
    -d '{"index_patterns":["*"],"order":0,"settings":{"index.number_of_replicas":0}}' ||
    die "could not set the no-replicas index template on OpenSearch"
}

opensearch_down() {
  stop_pids 0 "$OS_D/opensearch.pid"
  rm -rf "$OS_D"
}

opensearch_status() {
  local health
  health=$(curl -sf --max-time 3 "http://127.0.0.1:$OS_HTTP_PORT/_cluster/health" 2>/dev/null) || true
  health=${health#*\"status\":\"}
  process_status opensearch "$OS_D/opensearch.pid" "127.0.0.1:$OS_HTTP_PORT" "health ${health%%\"*}" opensearch_ready
}
