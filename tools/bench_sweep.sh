#!/usr/bin/env bash
# Sweep speed-up: a 64-point sweep of the default scenario (64 seeds) run with --jobs 2 and
# with --jobs 1 (one point after another), interleaved ROUNDS times (default 2) because the
# machine is shared, each into a fresh folder. Prints each time and the ratio (target <= 0.6).
# Then, when the build's runs report SLOs, the probe count of `kvsim plan` over 1..256
# instances (target <= 2·log2(256) = 16 per seed).
# Usage: tools/bench_sweep.sh [ROUNDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kvsim="$root/build/kvsim"
rounds="${1:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/bench.toml" <<'TOML'
[sweep]
name = "bench"
repetitions = 64
TOML

run() {  # run JOBS OUT -> wall milliseconds; CPU seconds of the points on fd 3
  local start end
  start=$(date +%s%N)
  { TIMEFORMAT="%U %S"; time "$kvsim" sweep "$work/bench.toml" --jobs "$1" --output "$2" 2>/dev/null; } 2> "$work/cpu"
  end=$(date +%s%N)
  awk '{ printf "cpu %.1f s", $1 + $2 }' "$work/cpu" >&3
  echo $(( (end - start) / 1000000 ))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
seconds() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1000 }'; }

seq_total=0; par_total=0
for r in $(seq 1 "$rounds"); do
  s=$(run 1 "$work/seq$r" 3>"$work/cpu1"); p=$(run 2 "$work/par$r" 3>"$work/cpu2")
  echo "round $r: --jobs 1 $(seconds "$s") s ($(cat "$work/cpu1")), --jobs 2 $(seconds "$p") s ($(cat "$work/cpu2")), ratio $(ratio "$p" "$s"); load average $(cut -d' ' -f1 /proc/loadavg)"
  seq_total=$((seq_total + s)); par_total=$((par_total + p))
done
echo "64-point sweep, default scenario: --jobs 1 $(seconds $((seq_total / rounds))) s," \
     "--jobs 2 $(seconds $((par_total / rounds))) s (mean of $rounds), ratio $(ratio "$par_total" "$seq_total") (target <= 0.6)"
"$root/tools/compare_indexes.py" "$work/seq1/index.csv" "$work/par1/index.csv" >/dev/null && echo "indexes of --jobs 1 and --jobs 2 identical"

# Plan probe counts: Llama-3.1-70B at TP=2 under 20 req/s of chat needs about 22 H100
# instances for P99 TPOT under 50 ms (docs/walkthrough.md), searched over 1..256.
if "$kvsim" run --help | grep -q -- "--slo"; then
  out=$("$kvsim" plan --set model.card=llama-3.1-70b --set instances.tp=2 --set workload.rate=20 \
        --set workload.num_requests=1000 --slo ttft.p99=2s --slo tpot.p99=50ms \
        --vary instances.count=1..256 --seeds 2 --jobs 2 -o "$work/plan" 2>/dev/null || true)
  echo "$out" | grep -E "^(answer|probes per search|  smallest)"
else
  echo "plan: this build's runs report no SLOs (kvsim run --slo); skipped"
fi
