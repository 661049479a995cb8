# shellcheck shell=bash
# An OTLP receiver for the trace tests: an OpenTelemetry Collector built from scripts/otelcol (the
# core OTLP receiver and contrib's file exporter, nothing else; go.mod pins one collector release),
# writing every span it receives as OTLP JSON lines to one file. Tests read the spans of their own
# trace ids from it, so runs that share the receiver do not see each other.

OTEL_D="$ENGINES_DIR/otel"
OTEL_GRPC_PORT=24317
OTEL_HTTP_PORT=24318
OTEL_TRACES_FILE="$OTEL_D/traces.jsonl"
OTEL_SRC="$SCRIPTS_DIR/otelcol"
# A change of the module (a new pin, another component) builds into a new directory.
OTEL_BIN="$ENGINES_CACHE/otelcol-$(cat "$OTEL_SRC/go.mod" "$OTEL_SRC/go.sum" "$OTEL_SRC/main.go" | sha256sum | cut -c1-12)/otelcol"

otel_env() {
  printf '%s\n' "TRACES_OTLP_ENDPOINT=http://127.0.0.1:$OTEL_HTTP_PORT" "TRACES_OTLP_GRPC=127.0.0.1:$OTEL_GRPC_PORT" "TRACES_FILE=$OTEL_TRACES_FILE"
}

otel_ready() { curl -s -o /dev/null --max-time 3 -X POST -H 'content-type: application/json' -d '{}' "http://127.0.0.1:$OTEL_HTTP_PORT/v1/traces"; }

otel_up() {
  if pid_alive "$OTEL_D/otelcol.pid" && otel_ready; then return 0; fi
  apt_ensure curl curl
  go_binary_once otelcol "$OTEL_BIN" 'one-off, about 3 min on 2 cores' build "$OTEL_SRC"
  log "starting the OpenTelemetry Collector"
  if ! pid_alive "$OTEL_D/otelcol.pid"; then
    require_port_free "$OTEL_HTTP_PORT" "the OpenTelemetry Collector"
    require_port_free "$OTEL_GRPC_PORT" "the OpenTelemetry Collector"
    mkdir -p "$OTEL_D"
    cat >"$OTEL_D/config.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:$OTEL_GRPC_PORT" }
      http: { endpoint: "127.0.0.1:$OTEL_HTTP_PORT" }
exporters:
  file:
    path: "$OTEL_TRACES_FILE"
    flush_interval: 100ms
service:
  telemetry:
    metrics: { level: none }
    logs: { level: warn }
  pipelines:
    traces: { receivers: [otlp], exporters: [file] }
YAML
    start_bg "$OTEL_D/otelcol.pid" "$OTEL_D/otelcol.log" "$OTEL_BIN" --config "$OTEL_D/config.yaml"
  fi
  wait_for 30 "the OpenTelemetry Collector on 127.0.0.1:$OTEL_HTTP_PORT" "$OTEL_D/otelcol.log" otel_ready
}

otel_down() {
  stop_pids 5 "$OTEL_D/otelcol.pid"
  rm -rf "$OTEL_D"
}

otel_status() {
  process_status otel "$OTEL_D/otelcol.pid" "127.0.0.1:$OTEL_HTTP_PORT" "otelcol spans to $OTEL_TRACES_FILE" otel_ready
}
