#!/usr/bin/env bash
# Compile cost of one application source file that includes the public prober header and asks one
# fact, in both modes, at -O2: CPU seconds (user+sys) and peak memory, measured with /usr/bin/time.
# Targets (issue 21): compiled library (BPFPROBE_COMPILED_LIB) <= 1.0 s and <= 150 MB; header-only
# (BPFPROBE_HEADER_ONLY) <= 2.0 s and <= 250 MB. The header-only mode's implementation file (the one
# source file with BPFPROBE_IMPLEMENTATION, which compiles the prober) and the umbrella header are
# printed for reference: an application pays for them once, not per source file.
#   bench/include-cost.sh [RUNS]     (default 3 runs each; the best is reported)
# Exit 0 when both modes meet their targets, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cxx=${CXX:-g++}
work=$(mktemp -d /tmp/bpfprobe-include-cost-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/one_fact.cpp" <<'SRC'
#include <bpfprobe/prober.hpp>
#include <cstdio>
int main() {
  bpfprobe::prober p;
  auto v = p.prog_type("xdp");
  std::printf("%s\n", bpfprobe::to_string(v.state).data());
}
SRC
cat >"$work/configure.cpp" <<'SRC'
#include <bpfprobe/configure.hpp>
#include <bpfprobe/prober.hpp>
#include <cstdio>
struct skeleton { struct bpf_object* obj; };
int main() {
  bpfprobe::prober p;
  skeleton s{nullptr};
  auto sel = bpfprobe::compat::configure(p, &s);
  std::printf("%s\n", sel ? bpfprobe::compat::to_string(sel.value()).c_str() : sel.error().describe().c_str());
}
SRC
cat >"$work/implementation.cpp" <<'SRC'
#define BPFPROBE_IMPLEMENTATION
#include <bpfprobe/prober.hpp>
SRC
cat >"$work/umbrella.cpp" <<'SRC'
#include <bpfprobe/bpfprobe.hpp>
int main() { return bpfprobe::prober{}.prog_type("xdp").supported() ? 0 : 1; }
SRC

# measure NAME SOURCE FLAGS...: best of $runs compiles (no ccache), "cpu_s max_mb" on stdout.
measure() {
  local src=$1; shift
  local best_cpu="" best_mb=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%U %S %M" -o "$work/time" "$cxx" -std=c++20 -O2 -Iinclude "$@" -c "$src" -o "$work/out.o"
    read -r user sys kb <"$work/time"
    local cpu mb
    cpu=$(echo "$user + $sys" | bc)
    mb=$((kb / 1024))
    if [ -z "$best_cpu" ] || [ "$(echo "$cpu < $best_cpu" | bc)" -eq 1 ]; then best_cpu=$cpu best_mb=$mb; fi
  done
  echo "$best_cpu $best_mb"
}

printf '%-58s %8s %8s\n' "translation unit (-O2, best of $runs)" "CPU s" "peak MB"
read -r c m < <(measure "$work/one_fact.cpp" -DBPFPROBE_COMPILED_LIB)
printf '%-58s %8.2f %8s\n' "<bpfprobe/prober.hpp>, one fact, compiled library" "$c" "$m"
ok=$(echo "$c <= 1.0 && $m <= 150" | bc)
read -r c m < <(measure "$work/configure.cpp" -DBPFPROBE_COMPILED_LIB)
printf '%-58s %8.2f %8s\n' "<bpfprobe/configure.hpp>, configure a skeleton, compiled" "$c" "$m"
read -r c m < <(measure "$work/one_fact.cpp" -DBPFPROBE_HEADER_ONLY)
printf '%-58s %8.2f %8s\n' "<bpfprobe/prober.hpp>, one fact, header-only" "$c" "$m"
header_only_ok=$(echo "$c <= 2.0 && $m <= 250" | bc)
read -r c m < <(measure "$work/implementation.cpp" -DBPFPROBE_HEADER_ONLY)
printf '%-58s %8.2f %8s\n' "header-only implementation file (once per application)" "$c" "$m"
read -r c m < <(measure "$work/umbrella.cpp")
printf '%-58s %8.2f %8s\n' "<bpfprobe/bpfprobe.hpp> (umbrella, header-only)" "$c" "$m"
status=0
if [ "$ok" -eq 1 ]; then
  echo "compiled-library mode: within the target (<= 1.0 s, <= 150 MB)"
else
  echo "compiled-library mode: OVER the target (<= 1.0 s, <= 150 MB)"
  status=1
fi
if [ "$header_only_ok" -eq 1 ]; then
  echo "header-only mode: within the target (<= 2.0 s, <= 250 MB)"
else
  echo "header-only mode: OVER the target (<= 2.0 s, <= 250 MB)"
  status=1
fi
exit $status
