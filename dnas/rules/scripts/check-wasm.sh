#!/usr/bin/env bash
# Fails when the committed workdir/ripple_rules.wasm is not what the rules in this checkout build to.
set -euo pipefail
dnas="$(cd "$(dirname "$0")/../.." && pwd)"
committed="$(dirname "$dnas")/workdir/ripple_rules.wasm"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bash "$dnas/rules/scripts/build-wasm.sh" "$tmp/ripple_rules.wasm" >/dev/null
if [ ! -f "$committed" ]; then
  echo "check-wasm: $committed is missing; run: bash dnas/rules/scripts/build-wasm.sh" >&2
  exit 1
fi
if ! cmp -s "$tmp/ripple_rules.wasm" "$committed"; then
  echo "check-wasm: workdir/ripple_rules.wasm is stale (committed sha256 $(sha256sum "$committed" | cut -d' ' -f1)," >&2
  echo "  rebuilt $(sha256sum "$tmp/ripple_rules.wasm" | cut -d' ' -f1)); run: bash dnas/rules/scripts/build-wasm.sh" >&2
  exit 1
fi
echo "check-wasm: workdir/ripple_rules.wasm matches the rules"
