#!/bin/sh
# Generation speed of `kvsim trace synth`: a 1-million-request to-b trace (target >= 200k
# requests/s). Prints requests per wall-second, with the kvsim writer included.
# Usage: tools/bench_synth.sh [path/to/kvsim]
set -e
KVSIM=${1:-build/kvsim}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
N=1000000
start=$(date +%s.%N)
"$KVSIM" trace synth to-b --set num_requests=$N --set duration=0 --seed 1 -o "$OUT/b.jsonl"
end=$(date +%s.%N)
echo "$N $start $end" | awk '{ t = $3 - $2; printf "to-b, %d requests in %.2f s: %.0f requests/s\n", $1, t, $1 / t }'
