#!/usr/bin/env bash
# Cluster benchmark: 16 nodes x 8 H100 (128 instances of Llama-3.1-8B), HBM + DRAM + a remote
# pool, prefix_affinity, one hour of to-C traffic scaled to ~200 req/s (~720k requests): wall
# time, simulated requests per wall-second and peak RSS. Then the scaling table: 16, 64, 256
# and 1,024 instances at proportional load (25 req/s per 16 instances) for a shorter window.
# A benchmark, not a test: it prints figures and asserts nothing.
# Usage: tools/bench_cluster.sh [main-duration (1h)] [scaling-duration (10min)] [sizes (16 64 256 1024)]
# FLOOR=1 also runs the main scenario without the DRAM and remote tiers: what the same
# cluster costs per request when only HBM caches prefixes (the floor under the tier cascade).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
main_duration="${1:-1h}"
scale_duration="${2:-10min}"
sizes="${3:-16 64 256 1024}"
# KVSIM=path/to/kvsim benchmarks that binary instead of building build/kvsim.
if [[ -z "${KVSIM:-}" ]]; then
  "$root/tools/build.sh" --target kvsim >/dev/null
fi
kvsim="${KVSIM:-$root/build/kvsim}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
card() {  # card NODES -> path of a leaf-spine card of that many DGX H100 nodes
  local path="$work/h100-$1node.toml"
  cat >"$path" <<CARD
name = "bench-h100-$1node"
[[node_groups]]
node = "dgx-h100"
count = $1
[network]
topology = "leaf-spine"
nodes_per_leaf = 8
oversubscription = 1.0
CARD
  echo "$path"
}
FLOOR="${FLOOR:-0}" /usr/bin/python3 - "$kvsim" "$root/tools/bench/cluster.toml" "$main_duration" "$scale_duration" "$sizes" \
  "$(card 16)" "$(card 2)" "$(card 8)" "$(card 32)" "$(card 128)" <<'PY'
import json, math, os, subprocess, sys, time
kvsim, scenario, main_duration, scale_duration, sizes = sys.argv[1:6]
cards = dict(zip([16, 2, 8, 32, 128], sys.argv[6:]))

def run(nodes, duration, rate_scale, extra=()):
    args = [kvsim, "run", scenario, "--json", "--quiet", "--set", f"platform.cluster={cards[nodes]}",
            "--set", f"instances.count={nodes * 8}", "--set", f"workload.duration={duration}",
            "--set", f"workload.rate_scale={rate_scale}", *extra]
    start = time.perf_counter()
    # /usr/bin/time gives this child's own peak RSS and user CPU time (on a shared machine
    # the CPU time is the steadier figure).
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U", *args], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss_kib, user = p.stderr.strip().splitlines()[-1].split()
    return json.loads(p.stdout), wall, int(rss_kib) / 1024, float(user)

s, wall, rss, user = run(16, main_duration, 33.3)
print(f"main: 16 nodes x 8 H100, 128 instances, prefix_affinity, to-C x 33.3 for {main_duration}")
print(f"  {s['requests']:,} requests ({s['completed']:,} completed), {s['sim_duration']:.0f} s simulated, "
      f"prefix hit ratio {s.get('prefix_hit_ratio', float('nan')):.3f}, TTFT p50/p99 "
      f"{s['ttft']['p50']*1e3:.0f}/{s['ttft']['p99']*1e3:.0f} ms")
print(f"  wall time {wall:.1f} s (simulation loop {s['wall_time']:.1f} s), "
      f"{s['requests'] / wall:,.0f} simulated requests per wall-second, peak RSS {rss:.0f} MiB")
print(f"  user CPU {user:.1f} s, {s['requests'] / max(user, 1e-9):,.0f} simulated requests per CPU-second")
if os.environ.get("FLOOR") == "1":
    s, wall, rss, user = run(16, main_duration, 33.3, ["--set", "kvcache.dram.capacity=0",
                                                       "--set", "kvcache.remote.capacity=0"])
    print(f"floor: the same without the DRAM and remote tiers (HBM prefix caches only)")
    print(f"  prefix hit ratio {s.get('prefix_hit_ratio', float('nan')):.3f}, wall time {wall:.1f} s, "
          f"user CPU {user:.1f} s, {s['requests'] / max(user, 1e-9):,.0f} simulated requests per CPU-second, "
          f"peak RSS {rss:.0f} MiB")
print(f"scaling at proportional load (25 req/s per 16 instances) for {scale_duration}:")
print(f"  {'instances':>9} {'requests':>9} {'wall s':>8} {'user s':>8} {'req/wall-s':>10} {'RSS MiB':>8} "
      f"{'user/(N log2 I) us':>18}")
for instances in [int(x) for x in sizes.split()]:
    nodes = instances // 8
    s, wall, rss, user = run(nodes, scale_duration, 33.3 / 8 * instances / 16)
    norm = user / (s['requests'] * math.log2(instances)) * 1e6
    print(f"  {instances:>9} {s['requests']:>9,} {wall:>8.1f} {user:>8.1f} {s['requests'] / wall:>10,.0f} {rss:>8.0f} "
          f"{norm:>18.2f}")
PY
