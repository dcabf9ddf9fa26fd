#!/usr/bin/env bash
# Builds bpfprobe with sanitizers and runs tests under them (needs root for the kernel tests, like ctest
# in build/). Any sanitizer report fails the run, also one from a CLI a test spawned.
#   asan: ASan+UBSan in build-asan: the CLI and the unit, host kernel and concurrency tests (CTest labels
#         unit, kernel, concurrency; BPFPROBE_SANITIZE_LABELS overrides the regex, e.g. 'unit|kernel|compat|attach').
#   tsan: TSan in build-tsan: the concurrency test (8 threads on one prober, two full reports at once).
# Usage: scripts/run-sanitizers.sh [asan] [tsan]   (no argument: both). CXX/CC pick the compilers
# (default g++/gcc, what CI uses).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ccache-args.sh

jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(asan tsan)
cxx=${CXX:-g++}
cc=${CC:-gcc}

# A report from a CLI that a test spawned must fail the run even where the test expects exit 1 (an
# unsupported --require): reports exit with 86, which no bpfprobe exit code is, and go to files (one
# per process) in a directory every user can write (tests also run the CLI as nobody); any file there
# fails the run. With g++ the UBSan part of a combined ASan+UBSan runtime takes the common flags
# (exitcode, log_path) from UBSAN_OPTIONS only and writes its reports to stderr regardless: there the
# exit code is what catches them.
logs=$(mktemp -d /tmp/bpfprobe-sanitizers.XXXXXX)
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT
export ASAN_OPTIONS="exitcode=86:halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_odr_violation=2:log_path=$logs/asan"
export UBSAN_OPTIONS="exitcode=86:halt_on_error=1:print_stacktrace=1:report_error_type=1:log_path=$logs/ubsan"
export TSAN_OPTIONS="exitcode=86:halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan"

failed=0
timing=()

# configure_and_build DIR FLAGS TARGET...
configure_and_build() {
  local dir=$1 flags=$2
  shift 2
  local start=$SECONDS
  # -O1 -g1: stacks with file:line (line tables are all a report needs), compiles faster than -O2 -g;
  # no -DNDEBUG so assertions stay on.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1 $flags" -DCMAKE_C_FLAGS_SANITIZE="-O1 -g1 $flags" \
    -DCMAKE_EXE_LINKER_FLAGS_SANITIZE="$flags" -DBPFPROBE_BUILD_TESTS=ON -DBPFPROBE_BUILD_BENCH=OFF \
    "${ccache_args[@]}" >/dev/null
  cmake --build "$dir" -j "$(nproc)" --target "$@"
  timing+=("$dir build $((SECONDS - start)) s")
}

# run_ctest NAME DIR LABELS [WRAPPER...]: ctest over LABELS, then fail on any report file.
run_ctest() {
  local name=$1 dir=$2 labels=$3
  shift 3
  local start=$SECONDS rc=0
  rm -f "$logs"/*
  # Tests that spawn the CLI spawn this build's (sanitized) one.
  BPFPROBE_CLI="$PWD/$dir/src/bpfprobe" "$@" ctest --test-dir "$dir" -L "$labels" --output-on-failure -j 1 || rc=$?
  timing+=("$name tests $((SECONDS - start)) s")
  if compgen -G "$logs/*" >/dev/null; then
    echo "$name: sanitizer reports:" >&2
    for f in "$logs"/*; do
      echo "=== $f" >&2
      cat "$f" >&2
    done
    [ "$rc" -ne 0 ] || rc=1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "$name: FAILED" >&2
    failed=1
  else
    echo "$name: passed, no sanitizer report"
  fi
}

for job in "${jobs[@]}"; do
  case $job in
    asan)
      configure_and_build build-asan "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
        bpfprobe-cli unit_tests btf_input_tests kfunc_unit_tests decide_tests kernel_tests link_tests kill_tests kfunc_tests \
        concurrency_tests \
        ${BPFPROBE_SANITIZE_EXTRA_TARGETS:-}
      # The random-kill tests kill 20 + 6 sanitized runs here (the release build in ctest kills 100 + 30).
      BPFPROBE_KILL_RUNS=${BPFPROBE_KILL_RUNS:-20} BPFPROBE_KILL_LIBRARY_RUNS=${BPFPROBE_KILL_LIBRARY_RUNS:-6} \
        run_ctest asan+ubsan build-asan "${BPFPROBE_SANITIZE_LABELS:-unit|kernel|concurrency}"
      ;;
    tsan)
      configure_and_build build-tsan "-fsanitize=thread -fno-omit-frame-pointer" concurrency_tests
      # Newer kernels randomize mmap more than older TSan runtimes accept ("FATAL: ThreadSanitizer:
      # unexpected memory mapping"); then run without address space randomization.
      wrapper=()
      if TSAN_OPTIONS= build-tsan/tests/concurrency_tests --gtest_list_tests 2>&1 | grep -q "unexpected memory mapping"; then
        echo "tsan: this kernel's mmap randomization breaks the TSan runtime; running under setarch -R"
        wrapper=(setarch "$(uname -m)" -R)
      fi
      run_ctest tsan build-tsan concurrency "${wrapper[@]}"
      ;;
    *)
      echo "usage: $0 [asan] [tsan]" >&2
      exit 2
      ;;
  esac
done

printf 'sanitizers: %s\n' "${timing[@]}"
exit "$failed"
