#!/usr/bin/env bash
# Builds kvsim and runs its embedded default scenario; extra arguments go to `kvsim run`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/build.sh" --target kvsim >&2  # build progress on stderr: stdout is kvsim's
cd "$root"
exec "$root/build/kvsim" run "$@"
