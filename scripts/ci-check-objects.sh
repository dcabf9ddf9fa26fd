#!/usr/bin/env bash
# A CI step for BPF objects: does each object load on the kernel of this CI machine?
#
#   ci-check-objects.sh [--out DIR] [--no-load] [--strict] BPFPROBE OBJ.bpf.o...
#
# Runs `BPFPROBE check` on the objects and writes, to DIR (--out, else $BPFPROBE_CHECK_OUT, else
# ./bpfprobe-check):
#   bpfprobe-check.sarif     SARIF 2.1.0 (code-scanning pages: GitHub, GitLab, Azure DevOps)
#   bpfprobe-check.junit.xml JUnit XML (a test case per program: Jenkins, GitLab, most CI test views)
#   bpfprobe-check.github    GitHub Actions annotations, also printed on stdout (GitHub shows them on
#                            the lines of the .bpf.c that decided each verdict)
#   bpfprobe-check.txt       the text report, also printed on stderr
# Exit status: 0 every program of every object loads; 1 one does not (unsupported); 2 bad input (an
# object that is missing or no BPF object, or a bpfprobe that does not run). A program whose verdict
# is unknown (not permitted: EPERM, lockdown; a target set at run time) is a warning and exits 0,
# unless --strict, then 3. --no-load: static prediction only (nothing is loaded; no root needed).
set -uo pipefail

usage() {
  echo "usage: $0 [--out DIR] [--no-load] [--strict] BPFPROBE OBJ.bpf.o..." >&2
  exit 2
}

out=${BPFPROBE_CHECK_OUT:-bpfprobe-check}
strict=0
check_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --no-load) check_args+=(--no-load); shift ;;
    --strict) strict=1; shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || usage
cli=$1
shift
mkdir -p "$out" || exit 2

# One run per format. Each returns the check's exit code; they may differ only if the kernel
# changed between runs, and then the worst counts (bad input, then unsupported, then unknown).
worst=0
rank() { case $1 in 0) echo 0 ;; 3) echo 1 ;; 1) echo 2 ;; *) echo 3 ;; esac; }
first_rc=""
run() {  # $1 = format, $2 = file; the first run's stderr (bad input lines) is shown, the others' when they differ
  local err rc
  err=$("$cli" check "${check_args[@]}" --format "$1" "${objects[@]}" 2>&1 >"$2")
  rc=$?
  case $rc in 0 | 1 | 2 | 3) ;; *) echo "$0: $cli check --format $1 exited $rc" >&2; rc=2 ;; esac
  if [ -z "$first_rc" ]; then first_rc=$rc; fi
  if [ -n "$err" ] && { [ "$1" = text ] || [ "$rc" != "$first_rc" ]; }; then printf '%s\n' "$err" >&2; fi
  if [ "$(rank "$rc")" -gt "$(rank "$worst")" ]; then worst=$rc; fi
}
objects=("$@")
run text "$out/bpfprobe-check.txt"
run sarif "$out/bpfprobe-check.sarif"
run junit "$out/bpfprobe-check.junit.xml"
run github "$out/bpfprobe-check.github"
cat "$out/bpfprobe-check.txt" >&2
cat "$out/bpfprobe-check.github"

case $worst in
  0) echo "bpfprobe check: every program loads" >&2; exit 0 ;;
  1) echo "bpfprobe check: a program does not load (see $out)" >&2; exit 1 ;;
  3)
    echo "bpfprobe check: a program could not be decided here (see $out)" >&2
    if [ "$strict" -eq 1 ]; then exit 3; fi
    exit 0 ;;
  *) echo "bpfprobe check: bad input (see the lines above)" >&2; exit 2 ;;
esac
