#!/usr/bin/env bash
# Runs a command (e.g. `cargo build --target wasm32-unknown-unknown`) with a Rust that can build for wasm32
# where rustup cannot add the target: Debian's rustc-web 1.96, its cargo and rust-web-src, unpacked (not
# installed: rustc-web conflicts with the Debian rustc 1.63 the rules' committed wasm is built with) into
#   ${RIPPLE_RUSTC_WEB_HOME:-~/.cache/ripple/rustc-web}/<version>
# with LLVM 22 and wasm-ld from the same Debian suite; std is built for wasm32 from source (-Zbuild-std).
# Usage: scripts/wasm32-toolchain.sh cargo build --release --target wasm32-unknown-unknown
set -euo pipefail
version="1.96.0+dfsg1-1~deb12u2"
llvm="1:22.1.8-1~deb12u1"
root="${RIPPLE_RUSTC_WEB_HOME:-$HOME/.cache/ripple/rustc-web}/${version%%+*}"
if [ ! -x "$root/usr/bin/rustc" ]; then
  echo "wasm32-toolchain: unpacking rustc-web $version into $root" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -q "rustc-web=$version" "cargo-web=$version" "libstd-rust-web-1.96=$version" \
    "libstd-rust-web-dev=$version" "rust-web-src=$version" "libllvm22=$llvm" "lld-22=$llvm" >&2)
  mkdir -p "$root"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$root"; done
fi
export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export RUSTC="$root/usr/bin/rustc"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$root/usr/lib/llvm-22/bin/wasm-ld"
# -Zbuild-std on a release compiler: what RUSTC_BOOTSTRAP is for.
export RUSTC_BOOTSTRAP=1
cmd="$1"
shift
[ "$cmd" = cargo ] || { echo "wasm32-toolchain: usage: $0 cargo <args>" >&2; exit 2; }
exec nice -n "${RIPPLE_BUILD_NICE:-19}" "$root/usr/bin/cargo" "$@" -Zbuild-std=std,panic_abort
