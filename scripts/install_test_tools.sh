#!/usr/bin/env bash
# The system tools the test suite drives, from Debian's packages: headless Chromium for the
# end-to-end page tests (playwright uses it through executable_path; nothing downloads a
# browser) and docker-compose, whose `config` checks docker-compose.yml without a Docker
# engine. Idempotent: installs only what is missing. Then the node tools of the TypeScript
# types' test (openapi-typescript, tsc) from clients/typescript's lock file (npm ci).
set -euo pipefail

missing=()
if ! { [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; }; then
  missing+=(chromium fonts-dejavu-core)
fi
if ! command -v docker-compose >/dev/null 2>&1; then
  missing+=(docker-compose)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
types="$(dirname "$0")/../clients/typescript"
if [ ! -x "$types/node_modules/.bin/tsc" ] || [ "$types/package-lock.json" -nt "$types/node_modules/.package-lock.json" ]; then
  (cd "$types" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "install_test_tools: $(/usr/bin/chromium --version 2>/dev/null); $(docker-compose version --short); node $(node --version)"
