#!/usr/bin/env bash
# Headless Chromium from Debian's packages for the end-to-end page tests (playwright drives it
# through executable_path; nothing downloads a browser). Idempotent: a no-op when installed.
set -euo pipefail

BROWSER=/usr/bin/chromium
if [ -x "$BROWSER" ] && "$BROWSER" --version >/dev/null 2>&1; then
  echo "install_browser: $("$BROWSER" --version 2>/dev/null) already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "install_browser: installed $("$BROWSER" --version 2>/dev/null)"
