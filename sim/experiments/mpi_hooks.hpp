// The boundary between kvsim and its MPI module (libkvsim_mpi.so, built from mpi_sweep.cpp
// when CMake finds MPI). kvsim loads the module with dlopen only when an MPI launcher
// started it, so kvsim itself never links MPI (libsimgrid exports MPI_* functions of its
// own, see mpi_sweep.cpp for how the module still reaches the real ones). Plain C types
// only: the module is independent of kvsim's C++ ABI.
#pragma once

extern "C" {

struct KvsimMpiHooks {
  void* context;
  // Root only: index of the next point to run, or -1 when none is left (points already done
  // are skipped and reported by the callee; -1 also after an interrupt).
  long long (*next_point)(void* context);
  // Starts point i's process, returns its pid (or -1 on failure).
  int (*start_point)(void* context, long long i);
  // Point i's process ended with wait status `status`: records its outcome on disk (and on
  // report != 0, the root, reports it).
  void (*finish_point)(void* context, long long i, int pid, int status, int report);
  // Root only: another rank finished point i (its outcome is on the shared filesystem).
  void (*remote_finished)(void* context, long long i);
  int (*interrupted)(void* context);
};

// Runs the sweep's points over all ranks; returns 1 on rank 0, 0 on the others, -1 on error.
typedef int (*KvsimMpiShareFn)(const KvsimMpiHooks* hooks);
int kvsim_mpi_share_points(const KvsimMpiHooks* hooks);
}
