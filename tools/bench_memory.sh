#!/usr/bin/env bash
# Memory benchmark: peak resident memory (max RSS from /usr/bin/time -v) of the default
# scenario at growing request counts, to see whether a run's memory grows with the number
# of requests (issue 7: a 10-million-request run stays below 2 GiB). The default scenario's
# 8 instances keep up with its 20 requests/s, so the queues stay short at any count and
# what grows is only what the run keeps per request. A benchmark, not a test: it prints
# figures and asserts nothing.
#
# Usage: tools/bench_memory.sh [COUNT...]   (default: 100000 1000000 10000000)
#   KVSIM=/path/to/kvsim  measures another binary (e.g. one built from an older commit)
# Extra kvsim arguments go in KVSIM_ARGS (e.g. KVSIM_ARGS="--set instances.count=16").
# The 10M run takes about an hour on a busy 2-core machine (~30k requests per second).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000 10000000)
kvsim="${KVSIM:-}"
if [ -z "$kvsim" ]; then
  "$root/tools/build.sh" --target kvsim >/dev/null
  kvsim="$root/build/kvsim"
fi
[ -x /usr/bin/time ] || { echo "bench_memory.sh: /usr/bin/time is missing (Debian package 'time')" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%12s %10s %12s %10s %s\n' requests completed "max RSS MiB" "wall s" "B/request"
for n in "${counts[@]}"; do
  # shellcheck disable=SC2086
  /usr/bin/time -v "$kvsim" run --quiet --json --set workload.num_requests="$n" ${KVSIM_ARGS:-} \
    -o "$work/run.h5" >"$work/summary.json" 2>"$work/time.txt"
  /usr/bin/python3 - "$n" "$work/summary.json" "$work/time.txt" <<'PY'
import json, re, sys
n, summary, timing = int(sys.argv[1]), json.load(open(sys.argv[2])), open(sys.argv[3]).read()
rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", timing).group(1)
seconds = 0.0
for part in wall.split(":"):
    seconds = seconds * 60 + float(part)
print(f"{n:12d} {summary['completed']:10d} {rss_kib / 1024:12.1f} {seconds:10.1f} {rss_kib * 1024 / n:10.0f}")
PY
  rm -f "$work/run.h5"
done
