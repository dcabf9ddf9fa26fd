#!/usr/bin/env bash
# Consumer test: install bpfprobe from BUILD into a temporary prefix, then build and run one
# consumer against it the way a user would.
#   run.sh SOURCE_DIR BUILD_DIR cmake|pkgconfig|compat|subdir
# Exit 0 passed, 77 skipped (a tool is missing), anything else failed.
set -euo pipefail
src=$1 build=$2 kind=$3
work=$(mktemp -d /tmp/bpfprobe-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cxx=${CXX:-c++}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

install_package() {
  cmake --install "$build" --prefix "$prefix" --strip >/dev/null
  for f in bpfprobeConfig.cmake bpfprobeConfigVersion.cmake BpfObject.cmake bpfprobe.pc bpfprobe.hpp; do
    [ -n "$(find "$prefix" -name "$f")" ] || { echo "not installed: $f"; exit 1; }
  done
  [ -x "$prefix/bin/bpfprobe" ] || { echo "not installed: bin/bpfprobe"; exit 1; }
  "$prefix/bin/bpfprobe" --version
}

cmake_consumer() {  # $1 = consumer folder, extra args follow
  local dir=$1; shift
  cmake -S "$src/tests/consumer/$dir" -B "$work/build-$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "${launcher[@]}" "$@" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
  cmake --build "$work/build-$dir" >"$work/build.log" 2>&1 || { tail -50 "$work/build.log"; exit 1; }
}

case $kind in
  cmake)
    install_package
    cmake_consumer cmake_app -DCMAKE_PREFIX_PATH="$prefix"
    "$work/build-cmake_app/consumer"
    ;;
  pkgconfig)
    install_package
    PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name bpfprobe.pc)")
    export PKG_CONFIG_PATH
    # shellcheck disable=SC2046
    $cxx -O1 -o "$work/consumer" "$src/tests/consumer/probe_one.cpp" $(pkg-config --cflags --libs bpfprobe)
    "$work/consumer"
    ;;
  compat)
    command -v clang >/dev/null && command -v bpftool >/dev/null || { echo "needs clang and bpftool"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "loads a BPF program: needs root"; exit 77; }
    install_package
    cmake_consumer compat_app -DCMAKE_PREFIX_PATH="$prefix" -DBPFPROBE_SOURCE_DIR="$src"
    "$work/build-compat_app/app"
    ;;
  subdir)
    cmake_consumer subdir_app -DBPFPROBE_SOURCE_DIR="$src"
    "$work/build-subdir_app/consumer"
    ;;
  *) echo "unknown consumer kind: $kind"; exit 2 ;;
esac
echo "consumer $kind: ok"
