#!/usr/bin/env bash
# Cold full-report wall time and peak RSS of bpfprobe against `bpftool feature probe`, measured in
# the same run on the same kernel, printed as ratios. Usage: bench/compare.sh [BPFPROBE] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bpfprobe=${1:-$here/../build/src/bpfprobe}
runs=${2:-15}
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$bpfprobe" ] || { echo "bench: no bpfprobe binary at $bpfprobe (build first)" >&2; exit 2; }
[ -x "$bpftool" ] || { echo "bench: bpftool not installed" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || echo "bench: not root; both tools will mostly report unknown/missing" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One run: wall seconds and peak RSS (KiB) via GNU time, output discarded.
measure() {
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>&1 || true
  cat "$tmp/t"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Interleave the two tools so drift in machine load hits both alike.
: >"$tmp/a_wall"; : >"$tmp/a_rss"; : >"$tmp/b_wall"; : >"$tmp/b_rss"
for _ in $(seq "$runs"); do
  read -r w m < <(measure "$bpftool" -j feature probe kernel); echo "$w" >>"$tmp/a_wall"; echo "$m" >>"$tmp/a_rss"
  read -r w m < <(measure "$bpfprobe" --json); echo "$w" >>"$tmp/b_wall"; echo "$m" >>"$tmp/b_rss"
done
# %e has 10 ms resolution; also time a batch with a finer clock.
batch() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo "scale=2; ($end - $start) / 1000000 / $runs" | bc
}
a_ms=$(batch "$bpftool" -j feature probe kernel)
b_ms=$(batch "$bpfprobe" --json)

# What each one decides: bpftool's feature count vs bpfprobe's fact count.
"$bpftool" -j feature probe kernel >"$tmp/bpftool.json" 2>/dev/null || echo '{}' >"$tmp/bpftool.json"
"$bpfprobe" --json >"$tmp/bpfprobe.json" 2>/dev/null || echo '{}' >"$tmp/bpfprobe.json"
read -r a_facts b_facts < <(python3 - "$tmp/bpftool.json" "$tmp/bpfprobe.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
def count(x):
    if isinstance(x, dict):
        if "status" in x: return 1
        return sum(count(v) for v in x.values())
    if isinstance(x, list): return sum(count(v) for v in x)
    return 0
na = sum(len(v) for k, v in a.items() if isinstance(v, dict) and k != "helpers")
na += sum(len(v) for v in a.get("helpers", {}).values())
print(na, count({k: v for k, v in b.items() if k != "kernel"}))
PY
)

a_wall=$(median <"$tmp/a_wall"); b_wall=$(median <"$tmp/b_wall")
a_rss=$(median <"$tmp/a_rss"); b_rss=$(median <"$tmp/b_rss")
printf 'kernel %s, %s runs each, %s CPUs\n' "$(uname -r)" "$runs" "$(nproc)"
printf '%-28s %12s %12s %10s\n' "" "bpftool" "bpfprobe" "ratio"
printf '%-28s %12s %12s %10s\n' "wall, mean of batch (ms)" "$a_ms" "$b_ms" "$(echo "scale=2; $b_ms / $a_ms" | bc)"
printf '%-28s %12s %12s %10s\n' "wall, median /usr/bin/time (s)" "$a_wall" "$b_wall" "-"
printf '%-28s %12s %12s %10s\n' "peak RSS, median (KiB)" "$a_rss" "$b_rss" "$(echo "scale=2; $b_rss / $a_rss" | bc)"
printf '%-28s %12s %12s %10s\n' "facts decided" "$a_facts" "$b_facts" "$(echo "scale=2; $b_facts / $a_facts" | bc)"
