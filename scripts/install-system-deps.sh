#!/usr/bin/env bash
# Debian packages Ripple needs beyond Node: the Rust toolchain that builds and tests the
# validation rules offline (Debian's rustc can target wasm32, rustup's cannot here), the crate
# sources it compiles against, wasm-opt, Chromium for the UI tests, and iproute2 + nftables for
# the NAT lab of the network tests (namespaces, NAT routers; run as root), and libfaketime for
# the tests that play a joiner whose clock is set back, and systemd for the `systemd-analyze verify`
# of the unit `ripple service install` writes.
set -euo pipefail

packages=(
  rustc cargo libstd-rust-dev-wasm32 lld-14 binaryen
  librust-serde-dev librust-serde-derive-dev librust-serde-json-dev
  chromium
  iproute2 nftables
  faketime
  systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
