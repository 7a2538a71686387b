#!/usr/bin/env bash
# Browser journeys for CI: makes sure Chromium is there, installs the pinned npm packages and
# runs every journey against the aims binary. Exits non-zero on any failure; a missing browser
# is a failure, never a skip (outside CI, E2E_ALLOW_SKIP=1 turns it into a skip).
#
#   AIMS_BIN=/path/to/aims e2e/ci.sh      (default: target/debug/aims, built if missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

log() { printf 'e2e: %s\n' "$*" >&2; }

if [[ ! -x "$chromium" ]]; then
  log "Chromium not found at $chromium; installing Debian's chromium"
  sudo=""
  if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null || log "apt-get update failed"
    $sudo apt-get install -y -qq chromium >/dev/null || log "apt-get install chromium failed"
  else
    log "apt-get is not available"
  fi
fi
if [[ ! -x "$chromium" ]]; then
  if [[ "${CI:-}" != "true" && "${E2E_ALLOW_SKIP:-}" == "1" ]]; then
    log "SKIPPED: no Chromium at $chromium (E2E_ALLOW_SKIP=1)"
    exit 0
  fi
  log "FAILED: no Chromium at $chromium (install the Debian package chromium or set CHROMIUM_PATH)"
  exit 1
fi
log "$("$chromium" --version 2>/dev/null | tail -n 1)"

if [[ -z "${AIMS_BIN:-}" ]]; then
  export AIMS_BIN="$repo/target/debug/aims"
  if [[ ! -x "$AIMS_BIN" ]]; then
    log "building the aims debug binary"
    (cd "$repo" && cargo build -p aims)
  fi
fi
if [[ ! -x "$AIMS_BIN" ]]; then
  log "FAILED: aims binary not found at $AIMS_BIN"
  exit 1
fi
export AIMS_BIN="$(cd "$(dirname "$AIMS_BIN")" && pwd)/$(basename "$AIMS_BIN")"
export CHROMIUM_PATH="$chromium"

cd "$here"
npm ci --no-audit --no-fund
npm test
