#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine: set up, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
./scripts/mount-fs.sh
ctest --test-dir build --output-on-failure -j 1
