#!/usr/bin/env bash
# Installs dependencies (Debian packages) and builds into ./build: the given CMake targets, or with
# none every target (bpfprobe, its tests and benchmark; what run-tests.sh needs).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
. scripts/ccache-args.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBPFPROBE_BUILD_TESTS=ON "${ccache_args[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j "$(nproc)" "${targets[@]}"
