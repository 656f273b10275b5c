#!/usr/bin/env bash
# End-to-end tests of functiond with the official Appwrite SDKs of the 1.0 era
# (Python appwrite 1.1.0 under pytest, node-appwrite 8.1.0 under node --test).
#
# Usage: tests/e2e/run.sh            (from any directory)
# Env:   FUNCTIOND_BIN   server binary (default: <repo>/target/debug/functiond); also the one
#                        python/test_crash.py starts (and SIGKILLs) on its own port and data dir
#        E2E_SUITES      "python node" (default) or just one of them
#        E2E_KEEP_DATA=1 keep the temp data dir for inspection
#        PYTEST_ADDOPTS  extra pytest options, e.g. "-k 'not crash'" or "-x"
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/../.." && pwd)"
FUNCTIOND_BIN="${FUNCTIOND_BIN:-$REPO_ROOT/target/debug/functiond}"
case "$FUNCTIOND_BIN" in
  /*) ;;
  *)  # relative: to the current directory if it exists there, else to the repo root
    if [[ -e "$FUNCTIOND_BIN" ]]; then
      FUNCTIOND_BIN="$(cd "$(dirname "$FUNCTIOND_BIN")" && pwd)/$(basename "$FUNCTIOND_BIN")"
    else
      FUNCTIOND_BIN="$REPO_ROOT/$FUNCTIOND_BIN"
    fi
    ;;
esac
E2E_SUITES="${E2E_SUITES:-python node}"

log() { printf '[e2e] %s\n' "$*" >&2; }

if [[ ! -x "$FUNCTIOND_BIN" ]]; then
  log "server binary not found or not executable: $FUNCTIOND_BIN (build it, or set FUNCTIOND_BIN)"
  exit 2
fi

# This script builds nothing: say so when the default binary is older than the sources.
if [[ "$FUNCTIOND_BIN" == "$REPO_ROOT/target/debug/functiond" ]]; then
  newer="$(find "$REPO_ROOT/crates" "$REPO_ROOT/Cargo.toml" "$REPO_ROOT/Cargo.lock" -newer "$FUNCTIOND_BIN" \
    \( -name '*.rs' -o -name 'Cargo.*' -o -name '*.sql' -o -name '*.cjs' -o -name '*.py' \) \
    -not -path '*/tests/*' -print -quit 2>/dev/null || true)"
  if [[ -n "$newer" ]]; then
    log "warning: $FUNCTIOND_BIN is older than $newer (run: cargo build -p functiond)"
  fi
fi

# ---- SDKs, installed into project-local folders --------------------------------------------
install_python() {
  local venv="$E2E_DIR/.venv"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(sha256sum "$E2E_DIR/requirements.txt" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
     && "$venv/bin/python" -c 'import appwrite, pytest' 2>/dev/null; then
    return 0
  fi
  log "installing the Python SDK into $venv"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$E2E_DIR/requirements.txt"
  printf '%s\n' "$want" > "$stamp"
}

install_node() {
  local stamp="$E2E_DIR/node_modules/.e2e-lock.sha256"
  local want
  if [[ -f "$E2E_DIR/package-lock.json" ]]; then
    want="$(cat "$E2E_DIR/package.json" "$E2E_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$E2E_DIR/node_modules/node-appwrite/package.json" ]]; then
      return 0
    fi
    log "installing node-appwrite with npm ci"
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  else
    log "installing node-appwrite with npm install"
    (cd "$E2E_DIR" && npm install --no-audit --no-fund --loglevel=error)
    want="$(cat "$E2E_DIR/package.json" "$E2E_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
  fi
  printf '%s\n' "$want" > "$stamp"
}

for suite in $E2E_SUITES; do
  case "$suite" in
    python) install_python ;;
    node) install_node ;;
    *) log "unknown suite '$suite' in E2E_SUITES"; exit 2 ;;
  esac
done

# ---- the server ----------------------------------------------------------------------------
# The server reads FUNCTIOND_<FLAG> env twins of its flags: make sure none from the caller's
# environment points it at another database.
unset FUNCTIOND_DATABASE_URL FUNCTIOND_LISTEN FUNCTIOND_DATA_DIR FUNCTIOND_JWT_PUBLIC_KEY \
  FUNCTIOND_ALLOWED_ORIGINS FUNCTIOND_TRUSTED_PROXIES FUNCTIOND_RATE_LIMIT FUNCTIOND_RATE_LIMIT_PERIOD \
  _APP_OPTIONS_ABUSE
# JWT users: the suites mint tokens with this secret (Python with its stdlib, Node through
# `functiond jwt create`, which reads it from the environment too).
FUNCTIOND_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
# The one browser origin the origin-check tests may write from.
E2E_ALLOWED_ORIGIN="https://allowed.example"
export FUNCTIOND_JWT_SECRET E2E_ALLOWED_ORIGIN
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/functiond-e2e.XXXXXX")"
SERVER_LOG="$DATA_DIR.server.log"
SERVER_PID=""

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${E2E_KEEP_DATA:-0}" == "1" ]]; then
    log "kept data dir $DATA_DIR and server log $SERVER_LOG"
  else
    rm -rf "$DATA_DIR" "$SERVER_LOG"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

print_server_log() {
  log "---- server log ($SERVER_LOG) ----"
  cat "$SERVER_LOG" >&2 || true
  log "---- end of server log ----"
}

log "starting $FUNCTIOND_BIN on 127.0.0.1:$PORT (data dir $DATA_DIR)"
"$FUNCTIOND_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR" \
  --jwt-secret "$FUNCTIOND_JWT_SECRET" --allowed-origins "$E2E_ALLOWED_ORIGIN" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 200); do  # 200 x 0.1 s = 20 s
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "the server exited before it was ready"
    print_server_log
    exit 1
  fi
  if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/v1/health/version" 2>/dev/null \
     && [[ -s "$DATA_DIR/bootstrap.json" ]]; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ "$ready" != 1 ]]; then
  log "the server did not answer GET /v1/health/version (or write bootstrap.json) within 20 s"
  print_server_log
  exit 1
fi

read_bootstrap() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$DATA_DIR/bootstrap.json" "$1"
}
export FUNCTIOND_ENDPOINT="http://127.0.0.1:$PORT/v1"
FUNCTIOND_PROJECT="$(read_bootstrap project)"
FUNCTIOND_KEY="$(read_bootstrap key)"
export FUNCTIOND_PROJECT FUNCTIOND_KEY FUNCTIOND_BIN
export FUNCTIOND_DATA_DIR="$DATA_DIR"
log "server ready: $FUNCTIOND_ENDPOINT project=$FUNCTIOND_PROJECT"

# ---- the suites (all run, even after a failure) --------------------------------------------
failed=()
for suite in $E2E_SUITES; do
  case "$suite" in
    python)
      log "running the Python suite (appwrite 1.1.0)"
      if ! (cd "$E2E_DIR/python" && "$E2E_DIR/.venv/bin/python" -m pytest -q); then
        failed+=(python)
      fi
      ;;
    node)
      log "running the Node suite (node-appwrite 8.1.0)"
      if ! (cd "$E2E_DIR" && node --test node/*.test.mjs); then
        failed+=(node)
      fi
      ;;
  esac
done

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "the server is no longer running"
  failed+=(server)
fi

if (( ${#failed[@]} > 0 )); then
  log "FAILED: ${failed[*]}"
  print_server_log
  exit 1
fi
log "all suites passed"
