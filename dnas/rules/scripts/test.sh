#!/usr/bin/env bash
# Runs the rules' tests (unit tests + every vector under tests/vectors/) offline with Debian's cargo and rustc.
# The build is kept per machine (as build-happ.sh keeps the zomes'): a fresh clone does not compile serde again.
set -euo pipefail
cd "$(dirname "$0")/../.."
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ripple/rules-test-target}"
exec /usr/bin/cargo test --offline "$@"
