# Shared by scripts/api-conformance and scripts/client-test (sourced, not run): a pinned Python
# tool in a virtualenv under the target folder, and the real binary serving the demo
# organisation on a fresh database of either backend.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ensure_venv DIR REQUIREMENT…: a virtualenv holding exactly these pinned packages.
ensure_venv() {
  local venv="$1"; shift
  local stamp="$venv/.requirements"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ]; then return; fi
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$@"
  echo "$*" >"$stamp"
}

# start_demo_server BINARY DATABASE_URL: the demo organisation on that database, served on a
# free port until stop_demo_server (or the script's exit). Sets DEMO_BASE, DEMO_WORK and DEMO_OWNER_TOKEN,
# DEMO_ADMIN_TOKEN (API tokens of the demo's owner and admin).
start_demo_server() {
  local bin="$1" url="$2" port
  DEMO_WORK="$(mktemp -d)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export AIMS_FILE_STORE="$DEMO_WORK/files"
  "$bin" --database "$url" demo 2>"$DEMO_WORK/accounts" >/dev/null
  DEMO_OWNER_TOKEN="$("$bin" --database "$url" token create owner@demo.example --org demo 2>/dev/null | head -1)"
  DEMO_ADMIN_TOKEN="$("$bin" --database "$url" token create admin@demo.example --org demo 2>/dev/null | head -1)"
  "$bin" --database "$url" serve --bind "127.0.0.1:$port" >"$DEMO_WORK/serve.log" 2>&1 &
  DEMO_PID=$!
  trap stop_demo_server EXIT
  DEMO_BASE="http://127.0.0.1:$port"
  python3 - "$DEMO_BASE" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"{sys.argv[1]}/healthz", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("the server did not start")
PY
}

stop_demo_server() {
  if [ -n "${DEMO_PID:-}" ]; then kill "$DEMO_PID" 2>/dev/null || true; wait "$DEMO_PID" 2>/dev/null || true; fi
  DEMO_PID=
}

# on_both_backends FUNCTION: runs FUNCTION LABEL DATABASE_URL on a fresh SQLite file, then on a
# fresh PostgreSQL database (dropped afterwards) when AIMS_TEST_POSTGRES_URL is set; under
# CI=true a missing PostgreSQL is a failure.
on_both_backends() {
  local run="$1" db
  "$run" sqlite "sqlite:$(mktemp -d)/aims.db"
  if [ -n "${AIMS_TEST_POSTGRES_URL:-}" ]; then
    db="aims_$(basename "$0" | tr -c 'a-z\n' '_')_$$"
    psql "$AIMS_TEST_POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
    "$run" postgres "${AIMS_TEST_POSTGRES_URL%/*}/$db"
    psql "$AIMS_TEST_POSTGRES_URL" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "AIMS_TEST_POSTGRES_URL is unset under CI" >&2
    return 1
  fi
}
