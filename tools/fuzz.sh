#!/usr/bin/env bash
# Fuzzes kvsim's input parsers with libFuzzer: the harnesses in tests/fuzz/ (fuzz_<target>.cpp:
# units, scenario, trace_file, trace_line), built with clang, ASan and UBSan in build-fuzz/.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]   fuzz each target (default: all) for SECONDS (default 60)
#   tools/fuzz.sh --build-only            only build the harnesses
#
# Seeds come from the project's own fixtures (trace samples in tests/golden, scenarios, cards
# and specs, unit strings); what libFuzzer learns is kept in build-fuzz/corpus/<target> for
# the next run. Fuzzing runs at nice 19 (the machine is shared). A crash, a sanitizer report,
# a leak, a timeout (10 s per input) or an out-of-memory (2 GiB) is written to
# build-fuzz/crashes/<target>/ and makes the script fail; rerun one input with
# build-fuzz/fuzz/fuzz_<target> FILE.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"

"$root/tools/setup.sh"
cxx="$(command -v clang++-14 || command -v clang++ || true)"
cc="$(command -v clang-14 || command -v clang || true)"
if [[ -z "$cxx" || -z "$cc" ]]; then
  echo "fuzz.sh: clang is not installed (tools/setup.sh installs it)" >&2
  exit 1
fi

# One build at a time (the CTest smoke tests may start several of these scripts).
mkdir -p "$build"
exec 9>"$build/.build.lock"
flock 9
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  rm -rf "$build/CMakeFiles"
  CC="$cc" CXX="$cxx" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DKVSIM_FUZZ=ON >/dev/null
fi
nice -n 10 cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzzers >/dev/null
flock -u 9
[[ "${1:-}" == "--build-only" ]] && exit 0

seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in "$root"/tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$f" .cpp)"
    targets+=("${name#fuzz_}")
  done
fi

# Seed inputs of one target, from the project's fixtures.
seed_target() {
  local target="$1" dir="$2"
  mkdir -p "$dir"
  case "$target" in
    units)
      local i=0
      for s in 80GiB 3.35TB/s 900GB/s 100Gbps 2us 1.5h 989TFLOPS 700W 10k "0.5 ms" 1e3KiB -2ms 7d; do
        printf '%s' "$s" >"$dir/unit_$i"
        i=$((i + 1))
      done
      ;;
    scenario)
      cp "$root"/sim/scenarios/*.toml "$root"/tools/bench/*.toml "$dir/"
      for f in "$root"/platforms/gpus/*.toml; do cp "$f" "$dir/gpu_$(basename "$f")"; done
      for f in "$root"/platforms/nodes/*.toml; do cp "$f" "$dir/node_$(basename "$f")"; done
      for f in "$root"/workloads/specs/*.toml; do cp "$f" "$dir/spec_$(basename "$f")"; done
      ;;
    trace_file | trace_line)
      # The samples, cut to their first lines (libFuzzer mutates small inputs best).
      for f in "$root"/tests/golden/*.csv "$root"/tests/golden/*.jsonl; do
        head -n 6 "$f" >"$dir/$(basename "$f")"
      done
      ;;
  esac
}

# Any sanitizer report stops the run; findings filed elsewhere are suppressed (see the file).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/fuzz/known_findings.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

failed=0
for target in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$target"
  if [[ ! -x "$binary" ]]; then
    echo "fuzz.sh: no harness \"$target\" (tests/fuzz/fuzz_$target.cpp)" >&2
    exit 2
  fi
  seeds="$build/seeds/$target"
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  log="$build/logs/$target.log"
  rm -rf "$seeds"
  seed_target "$target" "$seeds"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  # Each run starts in its own scratch directory (the trace harness writes a file there).
  work="$(mktemp -d)"
  status=0
  (cd "$work" && nice -n 19 "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$seeds") >"$log" 2>&1 || status=$?
  rm -rf "$work"
  runs="$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1 || echo 0)"
  found="$(find "$crashes" -type f | wc -l)"
  echo "fuzz $target: ${seconds} s, ${runs:-0} inputs run, corpus $(find "$corpus" -type f | wc -l) files, exit $status, artifacts in crashes/: $found"
  if [[ $status -ne 0 ]]; then
    failed=1
    grep -a -m 20 -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" >&2 || tail -n 20 "$log" >&2
  fi
done
exit $failed
