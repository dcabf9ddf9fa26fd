#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine: set up, build, and run every test.
# Stages, each run even when an earlier one failed (so the log is complete), with a summary at the end:
#   build, host tests (ctest in build/) with the arm64 cross build (the CLI and the check objects)
#   compiling beside them, cold fetch (the matrix's download step into an empty cache), kernel matrix
#   (amd64 and arm64 kernels), the attach tests again with tracefs and bpffs mounted, sanitizers
#   (scripts/run-sanitizers.sh: ASan+UBSan and TSan builds), fuzzing (scripts/run-fuzz.sh, time-boxed
#   by BPFPROBE_FUZZ_SECONDS, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
summary=()
failed=0
# stage NAME COMMAND...: runs COMMAND, records its result and wall time.
stage() {
  local name=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '%-12s passed  %5d s' "$name" $((SECONDS - start)))")
  else
    summary+=("$(printf '%-12s FAILED  %5d s  (rc=%d)' "$name" $((SECONDS - start)) "$rc")")
    failed=1
  fi
}

start=$SECONDS
./scripts/build.sh
summary+=("$(printf '%-12s passed  %5d s' build $((SECONDS - start)))")
# Host tests first without the mounts (tracefs, bpffs: not mounted on a fresh machine), the attach tests
# again with them (host-mounted).
# The arm64 cross build (build-arm64/): in CI only what the arm64 guests' quick pass runs, the CLI and
# the check objects. Its test executables build with `scripts/build.sh --arch arm64` and run with
# `matrix/run.py --arch arm64` (README.md, "The kernel matrix"). It only compiles, so it runs beside
# the host tests, at the lowest priority: they keep about one core of two busy (ctest -j 1: 107 % CPU
# over 8.4 min). Its output follows theirs; its time in the summary is its own wall time.
arm64_log=$(mktemp /tmp/bpfprobe-build-arm64.XXXXXX)
trap 'rm -f "$arm64_log"' EXIT
arm64_start=$SECONDS
nice -n 19 ./scripts/build.sh --arch arm64 bpfprobe-cli check_objects >"$arm64_log" 2>&1 &
arm64_pid=$!
stage host-tests ctest --test-dir build --output-on-failure -j 1
arm64_rc=0
wait "$arm64_pid" || arm64_rc=$?
echo "=== build-arm64 (beside host-tests)"
cat "$arm64_log"
if [ "$arm64_rc" -eq 0 ]; then
  summary+=("$(printf '%-12s passed  %5d s' build-arm64 $((SECONDS - arm64_start)))")
else
  summary+=("$(printf '%-12s FAILED  %5d s  (rc=%d)' build-arm64 $((SECONDS - arm64_start)) "$arm64_rc")")
  failed=1
fi
./scripts/mount-fs.sh
# The matrix's download step from an empty cache, as on a new machine (CI's cache is warm): 7.3 and
# 7.3-nomod share one kernel package and are fetched by two jobs at once (issue 19).
cold_cache=build/cold-fetch-cache
rm -rf "$cold_cache"
stage cold-fetch python3 matrix/run.py --cache "$cold_cache" --kernels 7.3,7.3-nomod --jobs 2 --fetch-only
rm -rf "$cold_cache"
# Every kernel in matrix/kernels.txt under QEMU: bpfprobe, bpftool and the kernel tests in each
# guest, checked against first-kernel expectations and bpftool (matrix/README.md). Downloads are cached
# in ${BPFPROBE_CACHE:-~/.cache/bpfprobe}/matrix; results and the grid go to build/matrix. The
# `bpfprobe check` example objects (tests/check/bpf) are checked in every kernel too: static
# prediction must equal the trial load (check-grid.html: programs x kernels). --quick: the kernels not
# marked quick=no in kernels.txt; the arm64 ones run bpfprobe (cold and warm report, check, snapshot)
# and Debian's arm64 bpftool but no test executables, on the arm64 builds of the same check objects.
stage matrix python3 matrix/run.py --build build --jobs 2 --arch amd64,arm64 --quick \
  --object build/tests/bpf/check_*.bpf.o
stage host-mounted ctest --test-dir build --output-on-failure -j 1 -L attach
stage sanitizers ./scripts/run-sanitizers.sh
if [ -x scripts/run-fuzz.sh ]; then
  stage fuzz env BPFPROBE_FUZZ_SECONDS="${BPFPROBE_FUZZ_SECONDS:-60}" ./scripts/run-fuzz.sh
fi

echo
echo "run-tests summary (details above; matrix results in build/matrix):"
printf '  %s\n' "${summary[@]}"
printf '  %-12s %s  %5d s\n' total "$([ "$failed" -eq 0 ] && echo passed || echo FAILED)" "$SECONDS"
passed=0 failed_stages=0
for line in "${summary[@]}"; do
  case $line in *FAILED*) failed_stages=$((failed_stages + 1)) ;; *) passed=$((passed + 1)) ;; esac
done
echo "stages: $passed passed, $failed_stages failed"
exit "$failed"
