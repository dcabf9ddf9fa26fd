#!/usr/bin/env bash
# bpfprobe against `bpftool -j feature probe kernel`, measured in the same run on the same kernel,
# alternating the commands round by round so drift in machine load hits all alike. Prints min /
# median / max wall time and peak RSS per case and the ratio of medians to bpftool's full probe.
#   cold    bpfprobe --json --no-cache           (the full report, nothing cached)
#   warm    bpfprobe --json                      (the cache filled by an earlier run)
#   fact    bpfprobe --no-cache --require prog:xdp   (one fact as a process, cold)
#   fact-w  bpfprobe --require prog:xdp          (one fact, warm)
#   check-w bpfprobe check --no-load OBJECT      (static check of one object, warm; when OBJECT exists:
#           default build/tests/bpf/check_app.bpf.o, 9 programs, or $BPFPROBE_BENCH_OBJECT)
# Usage: bench/compare.sh [BPFPROBE] [ROUNDS]   (needs root for meaningful numbers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bpfprobe=${1:-$here/../build/src/bpfprobe}
rounds=${2:-15}
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$bpfprobe" ] || { echo "bench: no bpfprobe binary at $bpfprobe (build first)" >&2; exit 2; }
[ -x "$bpftool" ] || { echo "bench: bpftool not installed" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || echo "bench: not root; both tools will mostly report unknown/missing" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache="$tmp/cache"

object=${BPFPROBE_BENCH_OBJECT:-$(dirname "$bpfprobe")/../tests/bpf/check_app.bpf.o}

exec python3 - "$bpftool" "$bpfprobe" "$rounds" "$cache" "$object" <<'PY'
import json, os, statistics, subprocess, sys, time

bpftool, bpfprobe, rounds, cache, obj = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
cases = [
    ("bpftool", [bpftool, "-j", "feature", "probe", "kernel"]),
    ("cold", [bpfprobe, "--json", "--no-cache"]),
    ("warm", [bpfprobe, "--json", "--cache-dir", cache]),
    ("fact", [bpfprobe, "--no-cache", "--require", "prog:xdp"]),
    ("fact-w", [bpfprobe, "--cache-dir", cache, "--require", "prog:xdp"]),
]
if os.path.isfile(obj):
    cases.append(("check-w", [bpfprobe, "--cache-dir", cache, "check", "--no-load", obj]))

def run(argv):
    """Wall seconds and peak RSS (KiB) of one run, output discarded. RSS comes from /usr/bin/time
    (wait4 here would count this Python process's image, inherited until exec); it wraps every
    command alike."""
    rss_file = os.path.join(os.path.dirname(cache), "rss")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        os.dup2(fd, 0); os.dup2(fd, 1); os.dup2(fd, 2)
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1, 3):
        sys.exit(f"bench: {' '.join(argv)} failed ({status})")
    with open(rss_file) as f:
        return wall, int(f.read().split()[-1])

# Fill the cache once so "warm" is warm from the first round.
subprocess.run([bpfprobe, "--json", "--cache-dir", cache, "--refresh"], stdout=subprocess.DEVNULL, check=True)
wall = {name: [] for name, _ in cases}
rss = {name: [] for name, _ in cases}
for _ in range(rounds):
    for name, argv in cases:
        w, m = run(argv)
        wall[name].append(w)
        rss[name].append(m)

def facts():
    a = json.loads(subprocess.run(cases[0][1], capture_output=True, text=True).stdout or "{}")
    b = json.loads(subprocess.run(cases[1][1], capture_output=True, text=True).stdout or "{}")
    def count(x):
        if isinstance(x, dict):
            return 1 if "status" in x else sum(count(v) for v in x.values())
        return sum(count(v) for v in x) if isinstance(x, list) else 0
    na = sum(len(v) for k, v in a.items() if isinstance(v, dict) and k != "helpers")
    na += sum(len(v) for v in a.get("helpers", {}).values())
    return na, count({k: v for k, v in b.items() if k != "kernel"})

na, nb = facts()
base = statistics.median(wall["bpftool"])
print(f"kernel {os.uname().release}, {rounds} rounds alternating, {os.cpu_count()} CPUs, "
      f"load {os.getloadavg()[0]:.2f} at the end")
print(f"{'':8} {'wall min':>9} {'median':>9} {'max':>9} {'x bpftool':>10}   {'RSS MiB min/med/max':>20}")
for name, _ in cases:
    w, m = sorted(wall[name]), sorted(rss[name])
    ms = lambda s: f"{s * 1000:7.1f}ms"
    mib = lambda k: f"{k / 1024:.1f}"
    print(f"{name:8} {ms(w[0]):>9} {ms(statistics.median(w)):>9} {ms(w[-1]):>9} "
          f"{statistics.median(w) / base:>10.3f}   {mib(m[0]):>6}/{mib(statistics.median(m))}/{mib(m[-1])}")
print(f"facts decided: bpftool {na}, bpfprobe {nb} ({nb / max(na, 1):.2f}x)")
PY
