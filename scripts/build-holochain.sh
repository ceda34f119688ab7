#!/usr/bin/env bash
# Builds the Holochain tools (holochain, hc, lair-keystore, kitsune2-bootstrap-srv) from crates.io at the versions
# in scripts/holochain-versions.env, with `cargo install --locked`, into one directory per version set:
#   ${RIPPLE_HOLOCHAIN_HOME:-~/.cache/ripple/holochain}/<holochain version>/bin
# A tool already there at its pinned version is reused (a rerun is instant). The first build is long
# (hours on 2 busy cores: times in build-times.txt there), so `scripts/install.sh` runs it only when asked
# (RIPPLE_HOLOCHAIN=1); the tests that need the tools skip, saying so, where they are missing.
# Env: RIPPLE_BUILD_JOBS (cargo -j, default 2), RIPPLE_BUILD_NICE (default 19).
# Needs: cargo (rustup), C/C++, cmake, perl, clang/libclang (bindgen for libdatachannel).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=holochain-versions.env
. scripts/holochain-versions.env
root="${RIPPLE_HOLOCHAIN_HOME:-$HOME/.cache/ripple/holochain}/$HOLOCHAIN_VERSION"
jobs="${RIPPLE_BUILD_JOBS:-2}"
nice_level="${RIPPLE_BUILD_NICE:-19}"
mkdir -p "$root/bin"
times="$root/build-times.txt"

# libdatachannel (holochain's WebRTC) is generated with bindgen, which needs libclang itself: clang's
# libclang-cpp (which a plain clang install brings) is not it.
if ! compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null && ! compgen -G '/usr/lib/*/libclang-[0-9]*.so*' >/dev/null \
  && ! compgen -G '/usr/lib/*/libclang.so*' >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "holochain tools: installing clang + libclang-dev (bindgen)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-dev
fi

# crate version binary: one row per tool, in the order the project needs them (hc packs the hApp first).
tools=(
  "holochain_cli $HOLOCHAIN_CLI_VERSION hc"
  "holochain $HOLOCHAIN_VERSION holochain"
  "kitsune2_bootstrap_srv $KITSUNE2_BOOTSTRAP_SRV_VERSION kitsune2-bootstrap-srv"
  "lair_keystore $LAIR_KEYSTORE_VERSION lair-keystore"
)
i=0
for row in "${tools[@]}"; do
  read -r crate version bin <<<"$row"
  i=$((i + 1))
  # As cargo records them.
  if [ -x "$root/bin/$bin" ] && grep -qF "\"$crate $version (" "$root/.crates.toml" 2>/dev/null; then
    echo "[$i/${#tools[@]}] $crate $version: present ($root/bin/$bin)"
    continue
  fi
  echo "[$i/${#tools[@]}] $crate $version: building ($(date -u +%H:%M:%S) UTC)"
  start=$(date +%s)
  # One target dir for all four, so the crates they share at the same version and features compile once.
  CARGO_TARGET_DIR="$root/target" nice -n "$nice_level" \
    cargo install --locked --root "$root" --version "=$version" -j "$jobs" "$crate"
  secs=$(( $(date +%s) - start ))
  echo "$crate $version ${secs}s $(date -u +%FT%TZ) jobs=$jobs" >>"$times"
  echo "[$i/${#tools[@]}] $crate $version: built in ${secs}s"
done
# The shared target dir is only a build cache; what is kept is bin/.
echo "holochain tools: ready in $root/bin"
