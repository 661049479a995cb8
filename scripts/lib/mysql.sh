# shellcheck shell=bash
# MariaDB: one mariadbd with its own datadir, standing in for RDS MySQL.

MYSQL_D="$ENGINES_DIR/mysql"
MYSQL_ENGINE_PORT=23306

mysql_install() {
  apt_ensure mariadbd mariadb-server
  apt_ensure mariadb mariadb-client
}

mysql_env() {
  printf '%s\n' MYSQL_HOST=127.0.0.1 "MYSQL_PORT=$MYSQL_ENGINE_PORT" MYSQL_USER=platform \
    MYSQL_PASSWORD=platform MYSQL_DATABASE=platform
}

# --no-defaults everywhere: /etc/mysql and ~/.my.cnf must not leak into the engine or the checks.
mysql_ready() {
  mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_ENGINE_PORT" -u platform -pplatform platform -e 'SELECT 1'
}

mysql_up() {
  if pid_alive "$MYSQL_D/mysqld.pid" && mysql_ready >/dev/null 2>&1; then return 0; fi
  mysql_install
  mkdir -p "$MYSQL_D/tmp"
  if [[ ! -d $MYSQL_D/data/mysql ]]; then
    log "initialising MariaDB datadir"
    rm -rf "$MYSQL_D/data"
    mariadb-install-db --no-defaults --datadir="$MYSQL_D/data" --user="$(id -un)" \
      --auth-root-authentication-method=socket --skip-test-db >"$MYSQL_D/install.log" 2>&1 ||
      { tail -n 30 "$MYSQL_D/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  # Runs at every start, so it must stay idempotent. The platform user may create
  # and use other databases too (tests make one per test).
  cat >"$MYSQL_D/init.sql" <<'EOF'
CREATE DATABASE IF NOT EXISTS platform CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'platform'@'%' IDENTIFIED BY 'platform';
CREATE USER IF NOT EXISTS 'platform'@'localhost' IDENTIFIED BY 'platform';
GRANT ALL PRIVILEGES ON *.* TO 'platform'@'%';
GRANT ALL PRIVILEGES ON *.* TO 'platform'@'localhost';
EOF
  require_port_free "$MYSQL_ENGINE_PORT" "MariaDB"
  start_bg "$MYSQL_D/mysqld.pid" "$MYSQL_D/mysqld.log" mariadbd --no-defaults \
    --datadir="$MYSQL_D/data" --tmpdir="$MYSQL_D/tmp" --user="$(id -un)" \
    --socket="$MYSQL_D/mysqld.sock" --pid-file="$MYSQL_D/data/mariadbd.pid" \
    --port="$MYSQL_ENGINE_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --init-file="$MYSQL_D/init.sql" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 --max-connections=500
  wait_for 60 "MariaDB on 127.0.0.1:$MYSQL_ENGINE_PORT" "$MYSQL_D/mysqld.log" mysql_ready
}

mysql_down() {
  stop_pids 0 "$MYSQL_D/mysqld.pid"
  rm -rf "$MYSQL_D"
}

mysql_status() {
  process_status mysql "$MYSQL_D/mysqld.pid" "127.0.0.1:$MYSQL_ENGINE_PORT" "mariadb" mysql_ready
}
