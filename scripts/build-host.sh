#!/usr/bin/env bash
# Bundles the host (the CLI, which runs the daemon, and the model process) into dist/ with esbuild when
# it is missing or older than its sources. bin/ripple.js runs the bundle when it is fresh and the
# TypeScript through tsx otherwise: loading ~300 modules of our own through tsx's loader hooks took a
# second of every start. Packages stay in node_modules (native addons, files they find beside them).
# `--force` always rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/ripple.mjs
if [[ "${1:-}" != "--force" && -f "$stamp" ]] &&
  [[ -z "$(find host zomes-bindings package.json -newer "$stamp" -print -quit)" ]]; then
  exit 0
fi
rm -rf dist
# Splitting keeps each dynamic import a chunk of its own, so what the host loads lazily (the MCP SDK,
# Kubo's client, Helia) stays lazy.
npx --no-install esbuild ripple=host/cli/main.ts model-process=host/inference/model-process-main.ts \
  --bundle --splitting --format=esm --platform=node --target=node20 --packages=external \
  --outdir=dist --chunk-names=chunks/[name]-[hash] --out-extension:.js=.mjs --log-level=warning
