#!/bin/sh
# Builds the corpus into OUTDIR and scores BPFPROBE on it: what the CTest Check.corpus runs.
#   run.sh BPFPROBE OUTDIR [score.py options...]
# Exit 77 (skipped) without root, kernel BTF or clang; else score.py's exit code.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BPFPROBE OUTDIR [score.py options]" >&2; exit 2; }
bpfprobe=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root to load BPF programs" >&2; exit 77; fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then echo "skipped: no /sys/kernel/btf/vmlinux" >&2; exit 77; fi
if ! command -v clang >/dev/null 2>&1 && ! command -v clang-14 >/dev/null 2>&1; then
  echo "skipped: no clang to build the corpus" >&2
  exit 77
fi
"$here/build.sh" "$out" >&2
exec python3 -B "$here/score.py" "$bpfprobe" "$out" "$@"
