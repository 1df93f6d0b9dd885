#!/usr/bin/env bash
# Speed benchmark of the timing-free cache replay (`kvsim cache`): block accesses replayed
# per CPU-second of one core, for every eviction policy. A benchmark, not a test: it
# prints figures and asserts nothing.
#
# Workload: the Bailian to-C preset of `kvsim trace synth` stretched to 11,800 s (about
# 10 million block accesses of 16 tokens), written to a kvsim-format file and read back
# through the trace reader like any real trace. The `wa` profile is fitted on its first
# hour. Replay time is the CPU time of the replay loop alone (trace loading excluded),
# best of REPEATS runs. Target: >= 20 M accesses/s for lru.
# Usage: tools/bench_cache.sh [repeats] [capacity, default 1M tokens] [kvsim binary]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeats="${1:-3}"
capacity="${2:-1M}"
kvsim="${3:-}"
if [[ -z "$kvsim" ]]; then
  "$root/tools/build.sh" --target kvsim >/dev/null
  kvsim="$root/build/kvsim"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$kvsim" trace synth to-c --set duration=11800s --seed 1 -o "$work/trace.jsonl" >/dev/null 2>&1
"$kvsim" trace profile "$work/trace.jsonl" --until 1h -o "$work/wa.toml" 2>/dev/null
policies="lru,fifo,lfu,sieve,s3fifo,arc,gdsf,wa,wa-online,opt"
/usr/bin/python3 - "$kvsim" "$work/trace.jsonl" "$work/wa.toml" "$policies" "$capacity" "$repeats" <<'PY'
import json, subprocess, sys
kvsim, trace, profile, policies, capacity, repeats = sys.argv[1:7]
best = {}
for _ in range(int(repeats)):
    out = subprocess.run([kvsim, "cache", trace, "--policy", policies, "--capacity", capacity,
                          "--wa-profile", profile, "--timing", "--json"],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    for row in result["rows"]:
        key = row["policy"]
        if key not in best or row["seconds"] < best[key]["seconds"]:
            best[key] = row
print(f"trace: to-c preset, 11800 s: {result['requests']} requests, "
      f"{result['block_accesses']:,} block accesses; capacity {capacity} tokens; best of {repeats}")
print(f"{'policy':<10} {'block hit':>9} {'CPU s':>7} {'M accesses/s':>13}")
for row in best.values():
    print(f"{row['policy']:<10} {row['block_hit_ratio']:>9.4f} {row['seconds']:>7.3f} "
          f"{row['accesses_per_second'] / 1e6:>13.1f}")
PY
