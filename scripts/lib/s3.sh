# shellcheck shell=bash
# S3-compatible server: MinIO built from source with `go install` (one-off, cached),
# single drive, path-style, SigV4 (so presigned URLs are really verified).

S3_D="$ENGINES_DIR/s3"
S3_PORT=29000
S3_USER=platform
S3_SECRET=platform-secret
S3_BUCKET_NAME=platform-uploads
# github.com/minio/minio at 2026-02-12: the Go module proxy cannot resolve MinIO's RELEASE.* tags, so pin the pseudo-version.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_BIN="$ENGINES_CACHE/minio-$MINIO_VERSION/minio"

s3_env() {
  printf '%s\n' "S3_ENDPOINT=http://127.0.0.1:$S3_PORT" S3_REGION=us-east-1 "S3_ACCESS_KEY_ID=$S3_USER" \
    "S3_SECRET_ACCESS_KEY=$S3_SECRET" S3_FORCE_PATH_STYLE=true "S3_BUCKET=$S3_BUCKET_NAME"
}

s3_install() {
  apt_ensure curl curl
  go_install_once MinIO "github.com/minio/minio@$MINIO_VERSION" "$MINIO_BIN" 'one-off, about 4 min on 2 cores'
}

# Signed S3 request with curl's own SigV4. Usage: s3_request PATH [CURL ARGS...]
s3_request() {
  local path=$1; shift
  curl -sf -o /dev/null --max-time 5 --aws-sigv4 aws:amz:us-east-1:s3 -u "$S3_USER:$S3_SECRET" \
    "$@" "http://127.0.0.1:$S3_PORT$path"
}

s3_ready() {
  curl -sf -o /dev/null --max-time 3 "http://127.0.0.1:$S3_PORT/minio/health/ready" &&
    s3_request "/$S3_BUCKET_NAME" -I
}

s3_up() {
  if pid_alive "$S3_D/minio.pid" && s3_ready >/dev/null 2>&1; then return 0; fi
  s3_install
  log "starting MinIO"
  if ! pid_alive "$S3_D/minio.pid"; then
    require_port_free "$S3_PORT" "MinIO"
    mkdir -p "$S3_D/data" "$S3_D/certs"
    # env -i: nothing from the caller's MINIO_* or AWS_* variables reaches the server
    start_bg "$S3_D/minio.pid" "$S3_D/minio.log" env -i PATH="$PATH" HOME="$S3_D" \
      MINIO_ROOT_USER="$S3_USER" MINIO_ROOT_PASSWORD="$S3_SECRET" MINIO_REGION=us-east-1 \
      MINIO_BROWSER=off MINIO_UPDATE=off \
      "$MINIO_BIN" server "$S3_D/data" --address "127.0.0.1:$S3_PORT" --certs-dir "$S3_D/certs" --quiet
  fi
  wait_for 60 "MinIO on 127.0.0.1:$S3_PORT" "$S3_D/minio.log" \
    curl -sf -o /dev/null --max-time 3 "http://127.0.0.1:$S3_PORT/minio/health/ready"
  s3_request "/$S3_BUCKET_NAME" -I || s3_request "/$S3_BUCKET_NAME" -X PUT ||
    die "could not create bucket $S3_BUCKET_NAME (log: $S3_D/minio.log)"
}

s3_down() {
  stop_pids 0 "$S3_D/minio.pid"
  rm -rf "$S3_D"
}

s3_status() {
  process_status s3 "$S3_D/minio.pid" "127.0.0.1:$S3_PORT" "minio bucket $S3_BUCKET_NAME" s3_ready
}
