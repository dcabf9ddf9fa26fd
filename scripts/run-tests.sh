#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine: set up, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
./scripts/mount-fs.sh
# Every kernel in matrix/kernels.txt under QEMU: bpfprobe, bpftool and the kernel tests in each
# guest, checked against first-kernel expectations and bpftool (matrix/README.md). Downloads are cached
# in ${BPFPROBE_CACHE:-~/.cache/bpfprobe}/matrix; results and the grid go to build/matrix.
# Not yet a gate: the first full run found expectation mismatches still being worked through (issue 4).
# BPFPROBE_MATRIX_STRICT=1 makes a matrix failure fail this script.
if ! python3 matrix/run.py --build build --jobs 2; then
  echo "matrix: FAILED (details above); not gating until issue 4 closes" >&2
  [ "${BPFPROBE_MATRIX_STRICT:-0}" = 1 ] && exit 1
fi
# Host tests last, so their summary closes the log.
ctest --test-dir build --output-on-failure -j 1
