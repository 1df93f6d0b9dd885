#!/usr/bin/env bash
# Configures and builds kvsim (Release) into build/ after installing missing packages.
set -euo pipefail
# Everything this script and its tools print is build progress: it goes to stderr, so that
# `./tools/run.sh --json` (and any caller's stdout) carries only the program's own output.
exec 1>&2
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup.sh"
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$jobs" "$@"
