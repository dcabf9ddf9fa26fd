#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine: set up, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
./scripts/mount-fs.sh
# Every kernel in matrix/kernels.txt under QEMU: bpfprobe, bpftool and the kernel tests in each
# guest, checked against first-kernel expectations and bpftool (matrix/README.md). Downloads are cached
# in ${BPFPROBE_CACHE:-~/.cache/bpfprobe}/matrix; results and the grid go to build/matrix.
# A matrix failure fails this script, after the host tests have run (so their log is complete).
matrix_rc=0
python3 matrix/run.py --build build --jobs 2 || matrix_rc=$?
# Host tests last, so their summary closes the log.
ctest --test-dir build --output-on-failure -j 1
if [ "$matrix_rc" -ne 0 ]; then
  echo "matrix: FAILED (rc=$matrix_rc; per-kernel details above, results in build/matrix)" >&2
  exit "$matrix_rc"
fi
