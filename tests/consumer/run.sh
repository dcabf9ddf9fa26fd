#!/usr/bin/env bash
# Consumer test: install bpfprobe from BUILD into a temporary prefix, then build and run one
# consumer against it the way a user would.
#   run.sh SOURCE_DIR BUILD_DIR cmake|pkgconfig|compat|subdir|deb|check
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
  for f in bpfprobeConfig.cmake bpfprobeConfigVersion.cmake BpfObject.cmake BpfprobeCheck.cmake bpfprobe.pc \
    bpfprobe-header-only.pc bpfprobe.hpp prober.hpp libbpfprobe.a; do
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
    "$work/build-cmake_app/consumer_header_only"
    ;;
  pkgconfig)
    install_package
    PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name bpfprobe.pc)")
    export PKG_CONFIG_PATH
    # shellcheck disable=SC2046
    $cxx -O1 -o "$work/consumer" "$src/tests/consumer/probe_one.cpp" $(pkg-config --cflags --libs bpfprobe)
    "$work/consumer"
    # shellcheck disable=SC2046
    $cxx -O1 -o "$work/consumer_header_only" "$src/tests/consumer/probe_one.cpp" \
      "$src/tests/consumer/bpfprobe_impl.cpp" $(pkg-config --cflags --libs bpfprobe-header-only)
    "$work/consumer_header_only"
    ;;
  compat)
    command -v clang >/dev/null && command -v bpftool >/dev/null || { echo "needs clang and bpftool"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "loads a BPF program: needs root"; exit 77; }
    install_package
    cmake_consumer compat_app -DCMAKE_PREFIX_PATH="$prefix" -DBPFPROBE_SOURCE_DIR="$src"
    "$work/build-compat_app/app"
    ;;
  check)
    # bpfprobe_check() (BpfprobeCheck.cmake) from the installed package: two objects built with the
    # installed BpfObject.cmake, checked by the installed CLI as CTest tests and as build steps.
    command -v clang >/dev/null && command -v bpftool >/dev/null || { echo "needs clang and bpftool"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "trial loads need root"; exit 77; }
    install_package
    cmake_consumer check_app -DCMAKE_PREFIX_PATH="$prefix"
    dir=$work/build-check_app
    grep -q "^BPFPROBE_CHECK_CLI:FILEPATH=$prefix/bin/bpfprobe\$" "$dir/CMakeCache.txt" ||
      { echo "not the installed CLI: $(grep ^BPFPROBE_CHECK_CLI "$dir/CMakeCache.txt")"; exit 1; }
    # The build step ran in the build above and wrote its report.
    grep -q '"version": *"2.1.0"' "$dir/loads.sarif" || { echo "no SARIF from the build step"; exit 1; }
    ctest --test-dir "$dir" -R '^bpfprobe_check\.loads$|^loads_static$|^loads_by_path$' --output-on-failure ||
      { echo "a check of the loadable object failed"; exit 1; }
    [ "$(ctest --test-dir "$dir" -N | grep -c 'Test *#')" -eq 6 ] || { ctest --test-dir "$dir" -N; exit 1; }
    # Unknown (a target set at run time): skipped, or failed with STRICT.
    ctest --test-dir "$dir" -R '^bpfprobe_check\.later$' >"$work/later.log" 2>&1 &&
      grep -q 'Skipped' "$work/later.log" || { cat "$work/later.log"; echo "the unknown check ran"; exit 1; }
    if ctest --test-dir "$dir" -R '^later_strict$' >"$work/later.log" 2>&1; then
      cat "$work/later.log"; echo "the STRICT check of an unknown verdict passed"; exit 1
    fi
    if ctest --test-dir "$dir" -R '^bpfprobe_check\.fails$' --output-on-failure >"$work/fails.log" 2>&1; then
      cat "$work/fails.log"; echo "the check of the object that cannot load passed"; exit 1
    fi
    # It failed for the right reason, at the line of the call (marked in the source).
    line=$(grep -n 'not loadable: this call' "$src/tests/consumer/check_app/fails.bpf.c" | cut -d: -f1)
    grep -q "^::error file=$src/tests/consumer/check_app/fails.bpf.c,line=$line,.*redirect_all" "$work/fails.log" ||
      { cat "$work/fails.log"; echo "no annotation at fails.bpf.c:$line"; exit 1; }
    # As a build step, the object that cannot load breaks the build.
    if cmake -S "$src/tests/consumer/check_app" -B "$work/build-step" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
      -DCHECK_FAILS_AS_BUILD_STEP=ON >"$work/configure.log" 2>&1; then
      if cmake --build "$work/build-step" >"$work/build-step.log" 2>&1; then
        echo "the build step of the object that cannot load passed"; exit 1
      fi
      grep -q 'bpfprobe check failed (exit 1)' "$work/build-step.log" || { tail -30 "$work/build-step.log"; exit 1; }
    else
      cat "$work/configure.log"; exit 1
    fi
    ;;
  subdir)
    cmake_consumer subdir_app -DBPFPROBE_SOURCE_DIR="$src"
    "$work/build-subdir_app/consumer"
    ;;
  deb)
    # The Debian package: built with CPack from BUILD, unpacked into a scratch root (dpkg -x: the
    # machine's package database is not touched), then its CLI and the find_package consumer run from it.
    command -v cpack >/dev/null && command -v dpkg-deb >/dev/null || { echo "needs cpack and dpkg-deb"; exit 77; }
    # Packs what BUILD has built (cpack --config runs the install rules only, it builds nothing).
    cpack --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
      { tail -50 "$work/cpack.log"; exit 1; }
    deb=$(find "$work/pkg" -maxdepth 1 -name 'bpfprobe_*.deb')
    [ -n "$deb" ] || { echo "no .deb"; cat "$work/cpack.log"; exit 1; }
    # Output captured before grep: grep -q exits at the first match and, under pipefail, the
    # writer's SIGPIPE would fail the pipeline.
    fields=$(dpkg-deb --field "$deb" Package Version Architecture Depends)
    echo "$fields"
    grep -q '^Depends:.*libbpf' <<<"$fields" || { echo "Depends lacks libbpf"; exit 1; }
    contents=$(dpkg-deb --contents "$deb")
    for f in ./usr/bin/bpfprobe bpfprobeConfig.cmake BpfObject.cmake BpfprobeCheck.cmake bpfprobe.pc \
      include/bpfprobe/bpfprobe.hpp include/bpfprobe/compat.bpf.h libbpfprobe.a; do
      grep -q -- "$f" <<<"$contents" || { echo "not in the package: $f"; exit 1; }
    done
    # The man pages where the build made them (help2man), and the bash and zsh completions.
    pages=(share/bash-completion/completions/bpfprobe share/zsh/vendor-completions/_bpfprobe)
    [ -f "$build/src/man/bpfprobe-check.1" ] && pages+=(share/man/man1/bpfprobe.1 share/man/man1/bpfprobe-check.1)
    for f in "${pages[@]}"; do
      grep -q -- "./usr/$f" <<<"$contents" || { echo "not in the package: $f"; exit 1; }
    done
    root=$work/root
    dpkg -x "$deb" "$root"
    man1=$root/usr/share/man/man1
    if [ -f "$man1/bpfprobe-check.1" ]; then
      grep -q 'sarif' "$man1/bpfprobe-check.1" || { echo "bpfprobe-check(1) lacks --format"; exit 1; }
      # man finds the page by its name in the package's man tree and renders it.
      if command -v man >/dev/null; then
        found=$(MANPATH=$root/usr/share/man man -w bpfprobe-check)
        [ "$found" = "$man1/bpfprobe-check.1" ] || { echo "man -w bpfprobe-check: '$found'"; exit 1; }
        page=$(LC_ALL=C MANWIDTH=100 man -l "$found" 2>&1) || { echo "$page"; exit 1; }
        grep -q -- '--no-load' <<<"$page" && grep -q '^ *bpfprobe-check - will each program' <<<"$page" ||
          { echo "$page"; echo "man -l bpfprobe-check.1 did not render the options"; exit 1; }
      fi
    fi
    # The installed completions, with the installed CLI listing the --require keys.
    BPFPROBE_COMPLETION=$root/usr/share/bash-completion/completions/bpfprobe \
      BPFPROBE_ZSH_COMPLETION_DIR=$root/usr/share/zsh/vendor-completions \
      python3 -B "$src/tests/scripts/completion_test.py" "$root/usr/bin/bpfprobe" "$src" "$man1"
    sections=$(readelf -S "$root/usr/bin/bpfprobe")
    if grep -q '\.debug_info' <<<"$sections"; then echo "the CLI is not stripped"; exit 1; fi
    echo "CLI: $(stat -c %s "$root/usr/bin/bpfprobe") bytes"
    "$root/usr/bin/bpfprobe" --version
    cmake_consumer cmake_app -DCMAKE_PREFIX_PATH="$root/usr"
    grep -q "^bpfprobe_DIR:PATH=$root/usr/" "$work/build-cmake_app/CMakeCache.txt" ||
      { echo "find_package did not use the package: $(grep ^bpfprobe_DIR "$work/build-cmake_app/CMakeCache.txt")"; exit 1; }
    "$work/build-cmake_app/consumer"
    "$work/build-cmake_app/consumer_header_only"
    ;;
  *) echo "unknown consumer kind: $kind"; exit 2 ;;
esac
echo "consumer $kind: ok"
