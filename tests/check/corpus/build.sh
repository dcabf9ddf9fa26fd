#!/bin/bash
# Builds the check corpus into OUTDIR: every source under src/ the ways other loaders' projects build
# theirs (see VARIANTS below), the truth loader, and vmlinux.h from the running kernel's BTF.
#   build.sh OUTDIR            (CLANG14/CLANG19/STRIP/BPFTOOL/CC override the tools)
# Objects are OUTDIR/obj/<source>.<variant>.bpf.o. A variant whose compiler is missing is skipped
# (and said so on stderr); a source that fails to compile fails the build.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$here/src
CLANG14=${CLANG14:-$(command -v clang-14 || command -v clang || true)}
CLANG19=${CLANG19:-$(command -v clang-19 || true)}
STRIP=${STRIP:-$(command -v llvm-strip || command -v llvm-strip-14 || command -v llvm-strip-19 || true)}
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
CC=${CC:-cc}
mkdir -p "$out/obj"

if [ ! -s "$out/vmlinux.h" ]; then
  "$BPFTOOL" btf dump file /sys/kernel/btf/vmlinux format c > "$out/vmlinux.h.tmp"
  mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"
fi
$CC -O2 -Wall -o "$out/truth" "$here/truth.c" -lbpf -lelf -lz

arch_inc=/usr/include/$(uname -m)-linux-gnu
case $(uname -m) in
  x86_64) target_arch=x86 ;;
  aarch64) target_arch=arm64 ;;
  *) target_arch=$(uname -m) ;;
esac
common="-target bpf -D__TARGET_ARCH_$target_arch -I$out -I$src -idirafter $arch_inc"
common="$common -Wno-unused-value -Wno-incompatible-pointer-types-discards-qualifiers"

# Variants, by how other projects build their objects:
#   g        clang 14 -O2 -g: BTF and .BTF.ext (libbpf-bootstrap, most CO-RE tools)
#   strip    the same, then llvm-strip -g (packagers stripping debug info)
#   nog      no -g: no BTF at all (iproute2-era and hand-rolled Makefiles)
#   v1 v2 v3 clang 14 -mcpu=vN (v1: old distribution kernels' objects, v3: Cilium-style)
#   c19      clang 19 -O2 -g, default CPU
#   c19v4    clang 19 -mcpu=v4 (sign extension, signed division, gotol, bswap)
# Which variants each source gets: all get g, strip and c19; the rest where it says something.
variants_of() {
  case $1 in
    btfless) echo "g strip nog v1 v2 v3 c19 c19v4" ;;
    legacy_maps) echo "g nog" ;;
    isa) echo "g strip nog v1 v2 v3 c19 c19v4" ;;
    atomics) echo "g v1 v2 v3 c19 c19v4" ;;
    loops) echo "g strip v1 v3 c19 c19v4" ;;
    logic) echo "g c19 c19v4" ;;
    limits) echo "g" ;;
    multi) echo "g strip nog" ;;
    helpers) echo "g strip v3 c19v4" ;;
    core) echo "g strip c19" ;;
    *) echo "g strip c19" ;;
  esac
}

build_one() { # source variant
  name=$1 variant=$2
  in=$src/$name.bpf.c
  obj=$out/obj/$name.$variant.bpf.o
  # Up to date: newer than its source, the shared header and vmlinux.h.
  if [ "$obj" -nt "$in" ] && [ "$obj" -nt "$src/corpus.h" ] && [ "$obj" -nt "$out/vmlinux.h" ]; then return 0; fi
  compiler=$CLANG14 flags="-O2 -g" post=
  case $variant in
    g) ;;
    strip) post=strip ;;
    nog) flags="-O2" ;;
    v1 | v2 | v3) flags="-O2 -g -mcpu=$variant" ;;
    c19) compiler=$CLANG19 ;;
    c19v4) compiler=$CLANG19 flags="-O2 -g -mcpu=v4" ;;
  esac
  if [ -z "$compiler" ]; then
    echo "build.sh: no compiler for variant $variant, $name skipped" >&2
    return 0
  fi
  # Atomics with a used result need -mcpu=v3 or later.
  extra=
  if [ "$name" = atomics ]; then
    case $variant in v3 | c19v4) extra=-DCORPUS_ATOMICS_V3 ;; esac
  fi
  # shellcheck disable=SC2086
  "$compiler" $common $flags $extra -c "$in" -o "$obj.tmp"
  if [ "$post" = strip ]; then "$STRIP" -g "$obj.tmp"; fi
  mv "$obj.tmp" "$obj"
}

# One background job per source (its variants in turn), JOBS at a time.
JOBS=${JOBS:-$(nproc)}
running=0
failed=0
for f in "$src"/*.bpf.c; do
  name=$(basename "$f" .bpf.c)
  (for v in $(variants_of "$name"); do build_one "$name" "$v" || exit 1; done) &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n 2>/dev/null || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n 2>/dev/null || failed=1
  running=$((running - 1))
done
[ "$failed" -eq 0 ] || { echo "build.sh: a source failed to compile" >&2; exit 1; }
echo "built $(ls "$out/obj" | wc -l) objects in $out/obj"
