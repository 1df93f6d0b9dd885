// libkvsim_mpi.so: shares a sweep's points among MPI ranks (see mpi_hooks.hpp for why this
// is a separately loaded module, and mpi_sweep.hpp for the scheme).
#include <cerrno>
#include <cstdint>
#include <type_traits>

#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

// Only MPI's C interface is used; OpenMPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <dlfcn.h>

#include "sim/experiments/mpi_hooks.hpp"

namespace {

// libsimgrid, already loaded by kvsim, exports its own MPI_* functions (SMPI), which would
// win a normal symbol lookup. So every MPI function is taken from the MPI library itself,
// found through the address of one of its objects (MPI_COMM_WORLD). RTLD_DEEPBIND would
// also avoid the clash but breaks OpenMPI (its setenv frees a different `environ`).
struct Mpi {
  decltype(&MPI_Init) init = nullptr;
  decltype(&MPI_Comm_rank) comm_rank = nullptr;
  decltype(&MPI_Comm_size) comm_size = nullptr;
  decltype(&MPI_Iprobe) iprobe = nullptr;
  decltype(&MPI_Recv) recv = nullptr;
  decltype(&MPI_Send) send = nullptr;
  decltype(&MPI_Barrier) barrier = nullptr;
  decltype(&MPI_Finalize) finalize = nullptr;

  bool load() {
    Dl_info info{};
    if (dladdr(static_cast<const void*>(MPI_COMM_WORLD), &info) == 0 || info.dli_fname == nullptr) return false;
    void* library = dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    if (library == nullptr) return false;
    auto get = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(library, name));
      return fn != nullptr;
    };
    return get(init, "MPI_Init") && get(comm_rank, "MPI_Comm_rank") && get(comm_size, "MPI_Comm_size") &&
           get(iprobe, "MPI_Iprobe") && get(recv, "MPI_Recv") && get(send, "MPI_Send") &&
           get(barrier, "MPI_Barrier") && get(finalize, "MPI_Finalize");
  }
};
Mpi mpi;

constexpr int kRequestTag = 1;  // worker -> root: int64 index of the point it finished, or -1
constexpr int kAssignTag = 2;   // root -> worker: int64 index of its next point, or -1 (stop)

void nap() {
  const timespec pause{0, 2'000'000};  // 2 ms: points take seconds; keeps the root's loop idle
  nanosleep(&pause, nullptr);
}

struct Running {
  int pid = -1;  // -1: no point running
  long long index = 0;
};

// Rank 0: runs points itself between answering the other ranks' requests, without
// threads (its points are child processes, so polling both costs nothing).
void root_loop(const KvsimMpiHooks& h, int size) {
  int workers = size - 1;
  Running own;
  bool own_exhausted = false;
  while (workers > 0 || own.pid > 0 || !own_exhausted) {
    bool busy = false;
    if (own.pid <= 0 && !own_exhausted) {
      const long long i = h.next_point(h.context);
      if (i < 0) {
        own_exhausted = true;
      } else {
        own.pid = h.start_point(h.context, i);
        own.index = i;
        if (own.pid <= 0) {
          h.finish_point(h.context, i, -1, 1 << 8, 1);
          own = Running{};
        }
      }
      busy = true;
    }
    int pending = 0;
    MPI_Status status;
    mpi.iprobe(MPI_ANY_SOURCE, kRequestTag, MPI_COMM_WORLD, &pending, &status);
    if (pending) {
      std::int64_t finished = -1;
      mpi.recv(&finished, 1, MPI_INT64_T, status.MPI_SOURCE, kRequestTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (finished >= 0) h.remote_finished(h.context, finished);
      std::int64_t assignment = h.next_point(h.context);
      mpi.send(&assignment, 1, MPI_INT64_T, status.MPI_SOURCE, kAssignTag, MPI_COMM_WORLD);
      if (assignment < 0) --workers;
      busy = true;
    }
    if (own.pid > 0) {
      int wait_status = 0;
      if (::waitpid(own.pid, &wait_status, WNOHANG) == own.pid) {
        h.finish_point(h.context, own.index, own.pid, wait_status, 1);
        own = Running{};
        busy = true;
      }
    }
    if (!busy) nap();
  }
}

void worker_loop(const KvsimMpiHooks& h) {
  std::int64_t finished = -1;
  while (true) {
    mpi.send(&finished, 1, MPI_INT64_T, 0, kRequestTag, MPI_COMM_WORLD);
    std::int64_t assignment = -1;
    mpi.recv(&assignment, 1, MPI_INT64_T, 0, kAssignTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (assignment < 0) return;
    const int pid = h.start_point(h.context, assignment);
    int wait_status = 1 << 8;
    if (pid > 0)
      while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
      }
    h.finish_point(h.context, assignment, pid, wait_status, 0);
    finished = assignment;
  }
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int kvsim_mpi_share_points(const KvsimMpiHooks* hooks) {
  if (!mpi.load() || mpi.init(nullptr, nullptr) != MPI_SUCCESS) return -1;
  int rank = 0, size = 1;
  mpi.comm_rank(MPI_COMM_WORLD, &rank);
  mpi.comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0)
    root_loop(*hooks, size);
  else
    worker_loop(*hooks);
  mpi.barrier(MPI_COMM_WORLD);
  mpi.finalize();
  return rank == 0 ? 1 : 0;
}
