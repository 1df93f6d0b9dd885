#!/usr/bin/env bash
# End-to-end speed of `kvsim cache` (trace parsing included): block accesses per wall-second
# and per CPU-second of a whole run, on a Mooncake-format trace of ~8.6 M block accesses of
# 16 tokens (the to-C preset over 10,000 s, written with 16-token hash blocks; generated
# once into the cache directory, never committed). A benchmark, not a test: it prints
# figures and asserts nothing (issue 9 target: >= 20 M accesses per wall-second with lru).
#
# Several binaries are run interleaved, so that a before/after comparison shares the same
# machine load: tools/bench_cache_e2e.sh [repeats] [kvsim binary ...]
# Environment: BENCH_DIR=cache directory (default /tmp/kvsim-bench); CAPACITY (default 1M);
# THREADS=1 adds, per binary, one run sampled by `perf record` (software clock) that splits
# its CPU time between the threads: the trace reader (parsing) and the consumer (the main
# thread: the replay loop, startup and exit). With two cores the run is bound by the larger.
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
# -dense: hash_ids numbered by first appearance, as the writer has done since it matched the
# published traces (an older cached file with 64-bit identities is not reused).
trace="$bench_dir/to-c-10000s-mooncake16-dense.jsonl"
if [[ ! -f "$trace" ]]; then
  mkdir -p "$bench_dir"
  echo "generating $trace ..." >&2
  # The newest binary (the last given) writes it: older writers spelled 64-bit identities.
  "${binaries[-1]}" trace synth to-c --set duration=10000s --seed 1 --to mooncake -o "$trace" >&2
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
if [[ "${THREADS:-0}" == 1 ]]; then
  if ! command -v perf >/dev/null; then
    echo "THREADS=1 needs perf (linux-perf)" >&2
    exit 0
  fi
  echo "CPU seconds per thread (one perf-sampled run each; main = the consumer):"
  data="$(mktemp)"
  trap 'rm -f "$data"' EXIT
  for b in "${binaries[@]}"; do
    perf record -q -e cpu-clock -c 250000 -o "$data" -- "$b" cache "$trace" --trace-block-size 16 --policy lru \
      --capacity "${CAPACITY:-1M}" --timing --json >/dev/null 2>&1
    # Samples per thread (one per 0.25 ms of its CPU time); the main thread's
    # id is the process id, the lowest.
    perf report -i "$data" --sort pid --stdio -n 2>/dev/null | /usr/bin/python3 -c '
import re, sys
rows = sorted((int(m.group(2)), int(m.group(1))) for m in
              (re.match(r"\s*[0-9.]+%\s+([0-9]+)\s+([0-9]+):", line) for line in sys.stdin) if m)
names = ["main"] + [f"thread {i}" for i in range(1, len(rows))]
print(f"  {sys.argv[1]}: " + ", ".join(f"{name} {n / 4000:.2f} s" for name, (_, n) in zip(names, rows)))
' "$b"
  done
fi
