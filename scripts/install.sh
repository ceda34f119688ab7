#!/usr/bin/env bash
# The install command from the README: Debian packages, then the npm packages pinned by the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
# `npm install`, not `npm ci`: npm 11 writes lockfiles without the other platforms' optional packages
# (biome, node-llama-cpp binaries) and then `npm ci` refuses them as out of sync. The lockfile still pins
# every version that is installed.
npm install --no-audit --no-fund
npm run build:ui
bash scripts/build-engine.sh
npm run build:host
