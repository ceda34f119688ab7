#!/usr/bin/env bash
# Builds the zomes of the five DNAs to wasm32 against hdi/hdk from crates.io, then packs the DNAs and
# workdir/ripple.happ with `hc` (built by scripts/build-holochain.sh, or on PATH).
# wasm32: rustup's `wasm32-unknown-unknown` target (added here when rustup can fetch it); where it cannot,
# Debian's rustc-web 1.96 builds the standard library from rust-web-src (scripts/wasm32-toolchain.sh).
# Env: RIPPLE_BUILD_JOBS (cargo -j, default 2), RIPPLE_BUILD_NICE (default 19).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/holochain-versions.env
bin="${RIPPLE_HOLOCHAIN_HOME:-$HOME/.cache/ripple/holochain}/$HOLOCHAIN_VERSION/bin"
jobs="${RIPPLE_BUILD_JOBS:-2}"
nice_level="${RIPPLE_BUILD_NICE:-19}"

# One target dir per machine, so a fresh clone (CI's) rebuilds only the zomes, not hdk and its deps;
# the DNA manifests read the wasm from ./target, where it is copied after the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ripple/cargo-target}"
# getrandom 0.3 (hdk 0.6) needs its backend named on wasm32 (Holochain's scaffolding does the same).
export RUSTFLAGS='--cfg getrandom_backend="custom"'
start=$(date +%s)
# A Rust with wasm32's std already (Nix's, or rustup's with the target), or rustup adding it.
if [ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ] \
  || rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
  nice -n "$nice_level" cargo build --locked --release --target wasm32-unknown-unknown -j "$jobs"
else
  echo "build-happ: rustup cannot add wasm32-unknown-unknown here; building std from source with rustc-web" >&2
  bash scripts/wasm32-toolchain.sh cargo build --locked --release --target wasm32-unknown-unknown -j "$jobs"
fi
echo "build-happ: zomes built in $(( $(date +%s) - start ))s"
out=target/wasm32-unknown-unknown/release
if [ "$(realpath -m "$CARGO_TARGET_DIR")" != "$(realpath -m target)" ]; then
  mkdir -p "$out"
  cp "$CARGO_TARGET_DIR"/wasm32-unknown-unknown/release/*.wasm "$out/"
fi

# The zomes build without hc (a compile check of the Rust against hdi/hdk); packing needs it.
hc="$bin/hc"
[ -x "$hc" ] || hc="$(command -v hc || true)"
if [ -z "$hc" ]; then
  echo "build-happ: no hc (holochain_cli $HOLOCHAIN_CLI_VERSION) in $bin or on PATH to pack them; build it: bash scripts/build-holochain.sh" >&2
  exit 1
fi
mkdir -p workdir
for dna in agent_registry resource_mesh policy_store artifact_index memory_shards; do
  "$hc" dna pack "dnas/$dna" -o "workdir/$dna.dna"
done
"$hc" app pack . -o workdir/ripple.happ
echo "packed workdir/ripple.happ ($(wc -c <workdir/ripple.happ) bytes)"
