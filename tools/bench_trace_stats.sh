#!/usr/bin/env bash
# Speed benchmark of `kvsim trace stats` on a one-million-request to-B-like trace: prints the
# wall time and peak memory (max RSS) of the analysis, best of a few runs. A benchmark, not a
# test: it prints figures and asserts nothing (issue 9's target: at least twice as fast in wall
# time as the binary of 088284a, the day the issue was filed; give both binaries in KVSIM to
# compare. Memory grows with the trace's block references, 6-14 bytes each, see
# workloads/README.md; the B/block column divides it by the unique blocks, as the older
# table-based analysis scaled). CPU time is all threads' (the reader parses on a second one,
# and the partition's buckets are resolved on two).
#
# The trace is generated once by `kvsim trace synth to-b` (the Bailian to-B preset, ~24 req/s)
# over 41,500 s (about 1.0 M requests, 1.5 GB in kvsim format) and kept in the cache
# directory for later runs.
#
# Usage: tools/bench_trace_stats.sh [repeats] [extra `trace stats` args]
# Environment: KVSIM=path of a built kvsim, or several separated by spaces, run interleaved
#              so that a before/after comparison shares the same machine load (default:
#              build it with tools/build.sh and use build/kvsim); BENCH_DIR=cache directory
#              (default /tmp/kvsim-bench);
#              TRACE=use this trace instead of generating one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeats="${1:-3}"
shift || true
if [[ -z "${KVSIM:-}" ]]; then
  "$root/tools/build.sh" --target kvsim >/dev/null
  KVSIM="$root/build/kvsim"
fi
bench_dir="${BENCH_DIR:-/tmp/kvsim-bench}"
trace="${TRACE:-$bench_dir/to-b-41500s-seed1.jsonl}"
if [[ ! -f "$trace" ]]; then
  mkdir -p "$bench_dir"
  echo "generating $trace (kvsim trace synth to-b, 41500 s) ..." >&2
  "${KVSIM%% *}" trace synth to-b --set duration=41500s --seed 1 -o "$trace" --to kvsim >&2
fi
# Timed in a Python parent so that RUSAGE_CHILDREN sees only the analysis runs.
/usr/bin/python3 - "$KVSIM" "$trace" "$repeats" "$@" <<'PY'
import json, os, subprocess, sys, tempfile, time
binaries, trace, repeats, extra = sys.argv[1].split(), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
runs = {b: [] for b in binaries}
stats = None
for _ in range(repeats):
    for b in binaries:
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            child = subprocess.Popen([b, "trace", "stats", trace, "--json", *extra], stdout=out)
            _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time and peak memory
            wall = time.perf_counter() - start
            if status != 0:
                sys.exit(f"{b} failed (status {status})")
            out.seek(0)
            stats = json.loads(out.read())
        runs[b].append((wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024))
size_gib = os.path.getsize(trace) / 2**30
print(f"trace: {trace} ({size_gib:.2f} GiB): {stats['requests']:,} requests, "
      f"{stats['requested_blocks']:,} blocks of {stats['block_size']} tokens, "
      f"{stats['unique_blocks']:,} unique, ideal block hit ratio {stats['ideal_block_hit_ratio']:.3f}")
print(f"{repeats} interleaved runs per binary; best wall time and the CPU time of that run, mean CPU time, peak memory")
print(f"{'binary':<40} {'wall s':>7} {'CPU s':>7} {'mean CPU':>9} {'all wall s':>24} {'MiB':>6} {'B/block':>8}")
for b, rs in runs.items():
    wall, cpu, _ = min(rs)
    mean_cpu = sum(r[1] for r in rs) / len(rs)
    rss = max(r[2] for r in rs)
    print(f"{b:<40} {wall:>7.2f} {cpu:>7.2f} {mean_cpu:>9.2f} {', '.join(f'{r[0]:.2f}' for r in rs):>24} "
          f"{rss:>6.0f} {rss * 2**20 / max(stats['unique_blocks'], 1):>8.1f}")
PY
