#!/usr/bin/env bash
# Bundles the host (the CLI, which runs the daemon) with the packages it uses
# into dist/ with esbuild, when the bundle is missing or older than its sources or the lockfile.
# bin/ripple.js runs the bundle when it is fresh and the TypeScript through tsx otherwise: loading
# ~2,000 ES modules one by one (through tsx's loader hooks for our own) took most of every start.
# Left out, and loaded from node_modules: native addons and packages that find files beside them.
# `--force` always rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/ripple.mjs
if [[ "${1:-}" != "--force" && -f "$stamp" ]] &&
  [[ -z "$(find host zomes-bindings package.json package-lock.json -newer "$stamp" -print -quit)" ]]; then
  exit 0
fi
rm -rf dist
# Splitting keeps each dynamic import a chunk of its own, so what the host loads lazily (the MCP SDK,
# Kubo's client, the Holochain client) stays lazy. The banner gives bundled CommonJS packages the
# `require` they call for Node's built-in modules.
external=(better-sqlite3 hnswlib-node node-llama-cpp node-datachannel @cedar-policy/cedar-wasm pino thread-stream)
npx --no-install esbuild ripple=host/cli/main.ts \
  --bundle --splitting --format=esm --platform=node --target=node20 "${external[@]/#/--external:}" \
  '--banner:js=import { createRequire as __ripple_require } from "node:module"; const require = __ripple_require(import.meta.url);' \
  --outdir=dist --chunk-names=chunks/[name]-[hash] --out-extension:.js=.mjs --log-level=warning
