#!/usr/bin/env bash
# Builds kvsim with its tests and runs the whole suite (CTest + doctest).
#
#   tools/test.sh [ctest args]             Release build in build/
#   tools/test.sh --sanitize [ctest args]  the same suite built with
#                                          -fsanitize=address,undefined in build-sanitize/;
#                                          any sanitizer report fails its test
#
# When clang and libFuzzer are installed, the suite includes a ~20 s smoke run of each
# fuzz harness (CTest label "fuzz", built in build-fuzz/ by tools/fuzz.sh; skip them
# with `-LE fuzz`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="$(nproc 2>/dev/null || echo 2)"

if [[ "${1:-}" == "--sanitize" ]]; then
  shift
  "$root/tools/setup.sh"
  build="$root/build-sanitize"
  # -O1 keeps the sanitized suite fast enough while keeping stack traces readable.
  flags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DKVSIM_FUZZ_SMOKE=OFF >/dev/null
  cmake --build "$build" -j "$jobs"
  cd "$build"
  # detect_leaks=0: the suite checks behaviour, and leak reports from SimGrid's and HDF5's
  # process-lifetime allocations at exit are not kvsim's.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  exec ctest --output-on-failure -j "$jobs" "$@"
fi

"$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$jobs" "$@"
