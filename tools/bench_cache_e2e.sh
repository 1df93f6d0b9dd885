#!/usr/bin/env bash
# End-to-end speed of `kvsim cache` (trace parsing included): block accesses per wall-second
# and per CPU-second of a whole run, on a Mooncake-format trace of ~8.6 M block accesses of
# 16 tokens (the to-C preset over 10,000 s, written with 16-token hash blocks; generated
# once into the cache directory, never committed). A benchmark, not a test: it prints
# figures and asserts nothing (issue 9 target: >= 20 M accesses per wall-second with lru).
#
# Several binaries are run interleaved, so that a before/after comparison shares the same
# machine load: tools/bench_cache_e2e.sh [repeats] [kvsim binary ...]
# Environment: BENCH_DIR=cache directory (default /tmp/kvsim-bench); CAPACITY (default 1M).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeats="${1:-3}"
shift || true
binaries=("$@")
if [[ ${#binaries[@]} -eq 0 ]]; then
  "$root/tools/build.sh" --target kvsim
  binaries=("$root/build/kvsim")
fi
bench_dir="${BENCH_DIR:-/tmp/kvsim-bench}"
trace="$bench_dir/to-c-10000s-mooncake16.jsonl"
if [[ ! -f "$trace" ]]; then
  mkdir -p "$bench_dir"
  echo "generating $trace ..." >&2
  "${binaries[0]}" trace synth to-c --set duration=10000s --seed 1 --to mooncake -o "$trace" >&2
fi
/usr/bin/python3 - "$trace" "$repeats" "${CAPACITY:-1M}" "${binaries[@]}" <<'PY'
import json, resource, subprocess, sys, time
trace, repeats, capacity, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
runs = {b: [] for b in binaries}
for _ in range(repeats):
    for b in binaries:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run([b, "cache", trace, "--trace-block-size", "16", "--policy", "lru",
                              "--capacity", capacity, "--timing", "--json"],
                             check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        row = json.loads(out)
        runs[b].append((wall, cpu, row["rows"][0]["seconds"], row["block_accesses"]))
print(f"trace: {trace}; lru, capacity {capacity} tokens; {repeats} interleaved runs per binary")
print(f"{'binary':<40} {'wall s':>7} {'CPU s':>7} {'loop s':>7} {'M acc/wall-s':>13} {'M acc/CPU-s':>12}")
for b, rs in runs.items():
    wall, cpu, loop, n = min(rs)  # best wall time
    print(f"{b:<40} {wall:>7.2f} {cpu:>7.2f} {loop:>7.2f} {n / wall / 1e6:>13.1f} {n / cpu / 1e6:>12.1f}")
PY
