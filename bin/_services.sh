# Sourced by bin/test and bin/with-services: throwaway PostgreSQL and Redis servers on
# 127.0.0.1 (random free ports, data in a temp folder), stopped on exit. Needs $PY.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tourism-test.XXXXXX")
chmod 755 "$WORK"
PG_DATA="" REDIS_PID_FILE=""
cleanup() {
  local status=$?
  if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$REDIS_PID_FILE" ] && [ -f "$REDIS_PID_FILE" ]; then
    kill "$(cat "$REDIS_PID_FILE")" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "error: $* missing and no root to install it; set DATABASE_URL/REDIS_URL" >&2
      exit 1
    fi
  fi
  echo "==> installing Debian packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL refuses to run as root: as root, run it as Debian's 'postgres' user.
as_pg_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    apt_install postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  local port
  port=$(free_port)
  PG_DATA="$WORK/pg"
  mkdir -p "$PG_DATA" "$WORK/pgsock"
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DATA" "$WORK/pgsock"; fi
  as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U tourism -A trust -E UTF8 --no-sync >"$WORK/initdb.log"
  as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $WORK/pgsock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  as_pg_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U tourism tourism
  export DATABASE_URL="postgres://tourism@127.0.0.1:$port/tourism"
  echo "==> PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_redis() {
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  local port
  port=$(free_port)
  REDIS_PID_FILE="$WORK/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_PID_FILE" --logfile "$WORK/redis.log" --dir "$WORK"
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export REDIS_URL="redis://127.0.0.1:$port/0"
  echo "==> Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port"
}

# Browser tests (tests/browser) drive Debian's headless Chromium with Playwright; no
# browser download: the browser comes from apt, fonts-liberation for legible
# screenshots. Exports CHROMIUM_PATH for tests/browser/conftest.py.
ensure_chromium() {
  if ! command -v chromium >/dev/null; then apt_install chromium fonts-liberation; fi
  export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
  echo "==> $("$CHROMIUM_PATH" --version 2>/dev/null | head -n 1)"
}
