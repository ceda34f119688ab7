#!/usr/bin/env bash
# The install command from the README: Debian packages, then the npm packages pinned by the lockfile.
# Holochain (the holochain backend, the tryorama scenarios): its tools take hours to build from crates.io
# on a small machine, longer than CI's budget, so they are built once per machine,
# only when asked (RIPPLE_HOLOCHAIN=1), into ~/.cache/ripple/holochain/<version>. Wherever they are built,
# every install (CI's too) packs workdir/ripple.happ, and the tests that need Holochain run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
# `npm install`, not `npm ci`: npm 11 writes lockfiles without the other platforms' optional packages
# (biome, node-llama-cpp binaries) and then `npm ci` refuses them as out of sync. The lockfile still pins
# every version that is installed. `--prefer-offline`: a tarball already in npm's cache is not fetched
# again (a fresh machine's empty cache fetches everything, as before).
npm install --no-audit --no-fund --prefer-offline
npm run build:ui
bash scripts/build-engine.sh
npm run build:host
if [ "${RIPPLE_HOLOCHAIN:-0}" = 1 ]; then bash scripts/build-holochain.sh; fi
if bash -c '. scripts/holochain-versions.env; [ -x "${RIPPLE_HOLOCHAIN_HOME:-$HOME/.cache/ripple/holochain}/$HOLOCHAIN_VERSION/bin/hc" ]' \
  || command -v hc >/dev/null; then
  npm run build:happ
else
  echo "holochain: tools not built (RIPPLE_HOLOCHAIN=1 bash scripts/install.sh builds them, once); the tests that need them skip"
fi
