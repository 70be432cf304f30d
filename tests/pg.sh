# Sourced by tests/run.sh (and usable by hand): a private PostgreSQL from Debian's packages in
# a temp dir, on a free loopback port, for the PostgreSQL engine's tests and the three-node
# cluster tests. Installs the packages when they are missing. After `pg_start`,
# CLOUDTWIN_TEST_PG_URL names a superuser connection to the `postgres` database, PG_DIR holds
# the data dir, the socket and the log, and `pg_stop` stops the server and removes PG_DIR.
# `pg_restart_stop` / `pg_restart_start` are used by the tests that restart the database.
#
#   source tests/pg.sh && pg_start && ... && pg_stop

pg_bin() {
  local b
  for b in /usr/lib/postgresql/*/bin; do
    if [ -x "$b/postgres" ]; then echo "$b"; return 0; fi
  done
  return 1
}

pg_install() {
  if pg_bin >/dev/null; then return 0; fi
  local SUDO=
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  # No cluster of the package's own: the tests make theirs.
  $SUDO mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/cloudtwin.conf >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  pg_bin >/dev/null
}

# PostgreSQL refuses to run as root: as root, the server runs as the package's `postgres` user.
pg_as() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {
  pg_install || { echo "tests/pg.sh: cannot install PostgreSQL" >&2; return 1; }
  local bin; bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/cloudtwin-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
  PG_PORT=$(pg_free_port)
  pg_as "$bin/initdb" -D "$PG_DIR/data" -U cloudtwin -A trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_restart_start
  export PG_DIR PG_PORT
  export CLOUDTWIN_TEST_PG_URL="postgres://cloudtwin@127.0.0.1:$PG_PORT/postgres"
  echo "tests/pg.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

pg_restart_start() {
  local bin; bin=$(pg_bin)
  pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on -c synchronous_commit=on" \
    start >/dev/null
}

pg_restart_stop() {
  local bin; bin=$(pg_bin)
  pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_restart_stop || true
    rm -rf "$PG_DIR"
  fi
}
