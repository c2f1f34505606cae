#!/usr/bin/env bash
# What the tests need besides Python: Debian's PostgreSQL and Redis (storage and multi-server tests),
# Chromium (widget tests, driven by Playwright) and axe-core from npm. Installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium chromium-driver fonts-dejavu-core)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "Please install: ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  echo "Installing axe-core from the npm registry"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
