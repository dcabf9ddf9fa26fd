#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) in build-fuzz and runs the BTF reader target
# for BPFPROBE_FUZZ_SECONDS seconds (default 60), seeded with the checked-in corpus
# tests/fuzz/corpus/btf, then the kernel snapshot reader for BPFPROBE_SNAPSHOT_FUZZ_SECONDS (default 30),
# seeded with tests/fuzz/corpus/snapshot. Exits non-zero on a crash, a hang (> 10 s on one input), a leak or a
# finding of the target; the input that caused it is kept in build-fuzz/fuzz-artifacts/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${BPFPROBE_FUZZ_SECONDS:-60}
build=${BPFPROBE_FUZZ_BUILD_DIR:-$root/build-fuzz}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DBPFPROBE_BUILD_TESTS=OFF -DBPFPROBE_FUZZ=ON >/dev/null
cmake --build "$build" --target btf_fuzz snapshot_fuzz

# libFuzzer adds the inputs it finds to its first corpus directory: give it a copy, never the
# checked-in corpus.
work=$(mktemp -d /tmp/bpfprobe-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$root/tests/fuzz/corpus/btf" "$work/corpus"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

echo "run-fuzz: btf_fuzz for ${seconds}s, seeds: $(ls "$work/corpus" | wc -l) files"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$build/tests/fuzz/btf_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus"
echo "run-fuzz: no crash in ${seconds}s"

snapshot_seconds=${BPFPROBE_SNAPSHOT_FUZZ_SECONDS:-30}
cp -r "$root/tests/fuzz/corpus/snapshot" "$work/snapshot-corpus"
echo "run-fuzz: snapshot_fuzz for ${snapshot_seconds}s, seeds: $(ls "$work/snapshot-corpus" | wc -l) files"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$build/tests/fuzz/snapshot_fuzz" -max_total_time="$snapshot_seconds" -timeout=10 -rss_limit_mb=4096 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/snapshot-corpus"
echo "run-fuzz: snapshot_fuzz: no crash in ${snapshot_seconds}s"
