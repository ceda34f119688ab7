#!/usr/bin/env bash
# Builds the dashboard (ui/ -> ui/dist) when it is missing or older than its sources (ui/, and the host
# modules it imports: the contract and the client), so `npm start`,
# `bash scripts/install.sh` and the tests never serve a stale one and never rebuild for nothing.
# `--force` always rebuilds. Nothing is downloaded: Vite and Lit come from node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=ui/dist/index.html
if [[ "${1:-}" != "--force" && -f "$stamp" ]] &&
  [[ -z "$(find ui/src ui/index.html ui/vite.config.ts host zomes-bindings package.json -newer "$stamp" -print -quit)" ]]; then
  exit 0
fi
npx --no-install tsc --noEmit -p ui
# Production Lit whatever NODE_ENV the caller has (vitest sets "test", which would select Lit's dev build).
NODE_ENV=production npx --no-install vite build --config ui/vite.config.ts
