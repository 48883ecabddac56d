#!/usr/bin/env bash
# Installs what the browser test (sae-cli ServeCommandTest.thePageInChromium) needs: Debian's Chromium and
# playwright-core from npm (the exact version in sae-cli/src/test/browser/package-lock.json). Playwright's own
# browser download is not used: the test drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium (for the browser test)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q chromium >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
fi
if ! command -v node >/dev/null 2>&1; then
  echo "node is missing: install Debian's nodejs and npm for the browser test" >&2
  exit 1
fi
(cd sae-cli/src/test/browser && npm ci --no-audit --no-fund --loglevel=error)
