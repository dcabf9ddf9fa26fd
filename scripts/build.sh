#!/usr/bin/env bash
# Installs dependencies (Debian packages) and builds into ./build: the given CMake targets, or with
# none every target (bpfprobe, its tests and benchmark; what run-tests.sh needs). BPFPROBE_DEPS=cli
# installs only the packages the CLI build needs (scripts/install-deps.sh --cli).
#
# --arch arm64: cross-builds into ./build-arm64 instead, with Debian's aarch64 cross compiler and an
# extracted tree of Debian arm64 packages (matrix/userland.py; cmake/toolchain-arm64.cmake). Its BPF
# C is compiled for __TARGET_ARCH_arm64 against a vmlinux.h from the newest arm64 kernel of
# matrix/kernels.txt (that kernel's BTF, read out of its Image).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=
if [ "${1:-}" = "--arch" ]; then
  arch=${2:?--arch needs a value}
  shift 2
fi
./scripts/install-deps.sh ${BPFPROBE_DEPS:+"--$BPFPROBE_DEPS"}
. scripts/ccache-args.sh
case "$arch" in
  "" | amd64 | x86_64)
    dir=build
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBPFPROBE_BUILD_TESTS=ON "${ccache_args[@]}" >/dev/null
    ;;
  arm64 | aarch64)
    dir=build-arm64
    mkdir -p "$dir"
    tree=$(python3 matrix/userland.py arm64 --btf "$dir/vmlinux-arm64.btf" | tail -n 1)
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBPFPROBE_BUILD_TESTS=ON \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-arm64.cmake" -DBPFPROBE_ARM64_TREE="$tree" \
      -DBPFPROBE_VMLINUX_BTF="$PWD/$dir/vmlinux-arm64.btf" "${ccache_args[@]}" >/dev/null
    ;;
  *)
    echo "build.sh: --arch $arch: only amd64 and arm64" >&2
    exit 2
    ;;
esac
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
