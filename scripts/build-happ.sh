#!/usr/bin/env bash
# Builds the zomes to wasm and packs the five DNAs and workdir/ripple.happ. Needs the Holochain toolchain
# (`nix develop`: cargo with wasm32-unknown-unknown and hc); hdk/hdi come from crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS='--cfg getrandom_backend="custom"' cargo build --release --target wasm32-unknown-unknown
mkdir -p workdir
for dna in agent_registry resource_mesh policy_store artifact_index memory_shards; do
  hc dna pack "dnas/$dna" -o "workdir/$dna.dna"
done
hc app pack . -o workdir/ripple.happ
echo "packed workdir/ripple.happ"
