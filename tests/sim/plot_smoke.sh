#!/bin/sh
# tools/plot on small real inputs, headless: a results file, a 2-point load sweep index,
# `kvsim cache --json` of a 2-minute synthetic trace, and a hand-written index with SLO
# columns. Every plot must be a non-empty PNG (and a PDF). Usage: plot_smoke.sh KVSIM PLOT DIR
set -eu
kvsim="$1"; plot="$2"; dir="$3"
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
unset DISPLAY

"$kvsim" run --quiet --seed 2 --set workload.num_requests=200 --set kvcache.dram.capacity=8GiB \
  --set instances.kv_blocks=1500 -o run.h5
cat > load.toml <<'TOML'
[sweep]
output = "load"
set = ["workload.num_requests=150"]
[grid]
workload.rate = [5, 20]
TOML
"$kvsim" sweep load.toml 2>/dev/null
"$kvsim" trace synth to-c --set duration=60s -o t.jsonl 2>/dev/null
"$kvsim" cache t.jsonl --policy lru,fifo --capacity 1k,10k --json > cache.json
cat > slo.csv <<'CSV'
point,instances.count,kvcache.dram.capacity,kvcache.dram.eviction,seed,status,error,path,slo_attainment,slo_pass,prefix_hit_ratio
0,1,64GiB,lru,1,ok,,a.h5,0.2,0,0.30
1,2,64GiB,wa,1,ok,,b.h5,0.7,0,0.35
2,4,1TiB,lru,1,ok,,c.h5,0.99,1,0.50
3,8,1TiB,wa,1,ok,,d.h5,1.0,1,0.55
4,8,1TiB,wa,2,failed,boom,e.h5,nan,nan,nan
CSV

"$plot" cdf run.h5 -o p/cdf
"$plot" tiers run.h5 -o p/tiers
"$plot" load load/index.h5 -o p/load
"$plot" hitratio cache.json -o p/hit_cache
"$plot" hitratio slo.csv -o p/hit_index
"$plot" slo slo.csv -o p/slo
for name in cdf tiers load hit_cache hit_index slo; do
  [ -s "p/$name.pdf" ] || { echo "missing p/$name.pdf"; exit 1; }
  # A PNG starts with \211PNG.
  [ "$(head -c 4 "p/$name.png" | tail -c 3)" = "PNG" ] || { echo "p/$name.png is not a PNG"; exit 1; }
  [ "$(wc -c < "p/$name.png")" -gt 5000 ] || { echo "p/$name.png is nearly empty"; exit 1; }
done
echo "all plots written"
