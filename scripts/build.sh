#!/usr/bin/env bash
# Installs dependencies (Debian packages) and builds bpfprobe, its tests and benchmark into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
. scripts/ccache-args.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBPFPROBE_BUILD_TESTS=ON "${ccache_args[@]}" >/dev/null
cmake --build build -j "$(nproc)"
