#!/usr/bin/env bash
# Runs the rules' tests (unit tests + every vector under tests/vectors/) offline with Debian's cargo and rustc.
set -euo pipefail
cd "$(dirname "$0")/../.."
export RUSTC=/usr/bin/rustc
exec /usr/bin/cargo test --offline "$@"
