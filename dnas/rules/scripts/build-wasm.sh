#!/usr/bin/env bash
# Builds the rules to wasm32-unknown-unknown with Debian's rustc (rustup has no wasm32 target here), then
# shrinks it with wasm-opt. Paths are remapped so the bytes do not depend on where the repo is checked out.
# Usage: build-wasm.sh [output]   (default: workdir/ripple_rules.wasm)
set -euo pipefail
dnas="$(cd "$(dirname "$0")/../.." && pwd)"
repo="$(dirname "$dnas")"
out="${1:-$repo/workdir/ripple_rules.wasm}"
# Apart from cargo test's target dir (dnas/target/debug), so the two builds never invalidate each other.
target="$dnas/target/wasm"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"

export RUSTC=/usr/bin/rustc
export CARGO_TARGET_DIR="$target"
# rustc gives the last matching prefix precedence, so the target dir (inside the repo) comes last.
export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=/usr/share/cargo/registry=/registry --remap-path-prefix=$repo=/ripple --remap-path-prefix=$target=/target"

cd "$dnas"
/usr/bin/cargo build --offline --quiet --release --target wasm32-unknown-unknown -p ripple_rules
mkdir -p "$(dirname "$out")"
wasm-opt -Oz --strip-debug --strip-producers "$target/wasm32-unknown-unknown/release/ripple_rules.wasm" -o "$out"
echo "built $out ($(wc -c <"$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
