#!/usr/bin/env bash
# Builds llama.cpp's own server (`llama-server`) and RPC worker (`ggml-rpc-server`) from the llama.cpp
# source node-llama-cpp ships (a git bundle in node_modules): no download. Dynamic backends
# (GGML_BACKEND_DL) so node-llama-cpp's prebuilt CPU/CUDA/Vulkan libraries load into the same binary.
# Skipped when already built for that source. Usage:
#   bash scripts/build-engine.sh            # CPU build (+ CUDA when nvcc and an NVIDIA GPU are present)
#   bash scripts/build-engine.sh --gpu cuda # also build the CUDA backend for the GPUs present
#   --force                                  # build again
set -euo pipefail
cd "$(dirname "$0")/.."

gpu=""
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --gpu) gpu="${2:-}"; shift 2 ;;
    --force) force=1; shift ;;
    *) echo "engine: unknown option $1" >&2; exit 2 ;;
  esac
done

bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f "$bundle" ] || { echo "engine: $bundle is missing (run npm install first)" >&2; exit 1; }
commit=$(git bundle list-heads "$bundle" | awk 'NR==1 { print substr($1, 1, 12) }')
root="${RIPPLE_ENGINE_HOME:-$HOME/.cache/ripple/engine}/$commit"
src="$root/src"
jobs=$(nproc)

ensure_source() {
  if [ ! -f "$src/CMakeLists.txt" ]; then
    rm -rf "$src"
    mkdir -p "$root"
    git -c advice.detachedHead=false clone -q "$bundle" "$src"
  fi
}

# Ninja prints "[n/m] ..." per step: on a terminal one line that rewrites itself (a progress bar),
# otherwise a line every 10%.
progress() {
  local label=$1 next=0 line done total pct bar
  while IFS= read -r line; do
    if [[ $line =~ ^\[([0-9]+)/([0-9]+)\] ]]; then
      done=${BASH_REMATCH[1]}
      total=${BASH_REMATCH[2]}
      pct=$(( 100 * done / total ))
      if [ -t 1 ]; then
        bar=$(printf '%*s' $(( pct * 30 / 100 )) '' | tr ' ' '#')
        printf '\r%s [%-30s] %3d%% (%d/%d)' "$label" "$bar" "$pct" "$done" "$total"
      elif [ "$pct" -ge "$next" ]; then
        echo "$label $pct% ($done/$total)"
        next=$(( pct + 10 ))
      fi
    elif [[ $line == *error* || $line == FAILED* ]]; then
      echo "$line"
    fi
  done
  if [ -t 1 ]; then echo; fi
}

common_flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_RPC=ON -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON
  -DGGML_CPU_ALL_VARIANTS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON
  -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON)

build_cpu() {
  if [ "$force" -eq 1 ]; then rm -rf "$root/bin" "$root/backends" "$root/verdicts.json"; fi
  if [ -x "$root/bin/llama-server" ] && [ -x "$root/bin/ggml-rpc-server" ]; then
    echo "engine: llama-server already built for llama.cpp $commit ($root/bin)"
    return
  fi
  ensure_source
  echo "engine: building llama-server and ggml-rpc-server from the bundled llama.cpp $commit ($jobs cores, ~4 min on 2)"
  local t0=$SECONDS
  cmake -S "$src" -B "$src/build" "${common_flags[@]}" > "$root/cmake.log" 2>&1 ||
    { cat "$root/cmake.log" >&2; exit 1; }
  ninja -C "$src/build" -j "$jobs" llama-server ggml-rpc-server 2>&1 | progress "engine: build"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "engine: build failed" >&2; exit 1; }
  rm -rf "$root/bin.tmp" && mkdir -p "$root/bin.tmp"
  cp -a "$src/build/bin/." "$root/bin.tmp/"
  rm -rf "$root/bin" && mv "$root/bin.tmp" "$root/bin"
  echo "engine: built in $(( SECONDS - t0 )) s -> $root/bin"
}

build_cuda() {
  if [ "$force" -eq 1 ]; then rm -rf "$root/cuda"; fi
  if [ -f "$root/cuda/libggml-cuda.so" ]; then
    echo "engine: CUDA backend already built for llama.cpp $commit"
    return
  fi
  command -v nvcc > /dev/null || { echo "engine: nvcc not found: install the CUDA toolkit to build the CUDA backend" >&2; exit 1; }
  ensure_source
  local arch
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | tr -d . | sort -u | paste -sd';' -)
  [ -n "$arch" ] || arch=native
  echo "engine: building the CUDA backend for compute capability $arch with $(nvcc --version | tail -1)"
  local t0=$SECONDS
  cmake -S "$src" -B "$src/build-cuda" "${common_flags[@]}" -DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch" \
    > "$root/cmake-cuda.log" 2>&1 || { cat "$root/cmake-cuda.log" >&2; exit 1; }
  ninja -C "$src/build-cuda" -j "$jobs" ggml-cuda 2>&1 | progress "engine: CUDA"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "engine: CUDA build failed" >&2; exit 1; }
  mkdir -p "$root/cuda"
  cp "$src/build-cuda/bin/libggml-cuda.so" "$root/cuda/"
  echo "$(( SECONDS - t0 ))" > "$root/cuda/build-seconds"
  # A new backend: the self-tests run again.
  rm -rf "$root/backends" "$root/verdicts.json"
  echo "engine: CUDA backend built in $(( SECONDS - t0 )) s -> $root/cuda"
}

build_cpu
# A GPU backend built here is a build_<gpu> function above and an entry of
# host/inference/engine/backend-table.ts, which names it for `ripple engine build --gpu`.
if [ -n "$gpu" ]; then
  declare -F "build_$gpu" > /dev/null || { echo "engine: no GPU backend $gpu to build" >&2; exit 2; }
  "build_$gpu"
elif [ -z "$gpu" ] && command -v nvcc > /dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; then
  build_cuda
fi
