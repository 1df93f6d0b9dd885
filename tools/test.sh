#!/usr/bin/env bash
# Builds kvsim with its tests and runs the whole suite (CTest + doctest).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
