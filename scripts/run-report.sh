#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine: set up, build the CLI (only it and what it links),
# and print the report. Extra arguments go to bpfprobe (e.g. --json, --macros).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh bpfprobe-cli
[ $# -gt 0 ] || set -- --report
exec ./build/src/bpfprobe "$@"
