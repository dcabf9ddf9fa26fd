#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine: set up, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
./scripts/mount-fs.sh
ctest --test-dir build --output-on-failure -j 1
# Then every kernel in matrix/kernels.txt under QEMU: bpfprobe, bpftool and the kernel tests in each
# guest, checked against first-kernel expectations and bpftool (matrix/README.md). Downloads are cached
# in ${BPFPROBE_CACHE:-~/.cache/bpfprobe}/matrix; results and the grid go to build/matrix.
python3 matrix/run.py --build build --jobs 2
