#!/usr/bin/env bash
# Installs the Debian 12 packages kvsim needs (only those missing), as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libsimgrid-dev libboost-graph-dev libtomlplusplus-dev libhdf5-dev doctest-dev libsimdjson-dev
  python3 python3-h5py python3-numpy python3-pandas hdf5-tools
  # Sweeps under mpirun (sim/experiments/mpi_sweep.cpp) and tools/plot.
  libopenmpi-dev openmpi-bin python3-matplotlib
  # Fuzzing (tools/fuzz.sh, tests/fuzz): clang 14 with compiler-rt, which ships libFuzzer
  # and the ASan/UBSan runtimes for clang; flock (util-linux) serialises fuzz builds.
  clang-14 libclang-rt-14-dev util-linux
  # Peak memory of tools/bench_memory.sh (/usr/bin/time -v).
  time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kvsim setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "kvsim setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
