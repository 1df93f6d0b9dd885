#include <filesystem>
#include <stdexcept>

#include <dlfcn.h>

#include "sim/experiments/mpi_hooks.hpp"
#include "sim/experiments/mpi_sweep.hpp"
#include "sim/util/interrupt.hpp"

namespace kvsim::experiments {

namespace {

struct Context {
  const std::vector<PointJob>* jobs;
  const std::function<void(std::size_t, const PointOutcome&, bool)>* on_finished;
  std::size_t next = 0;
};

long long next_point(void* c) {
  auto& ctx = *static_cast<Context*>(c);
  while (!interrupt_requested() && ctx.next < ctx.jobs->size()) {
    const std::size_t i = ctx.next++;
    if (point_outcome((*ctx.jobs)[i].output).state == PointState::done) {
      (*ctx.on_finished)(i, {PointState::done, ""}, true);
      continue;
    }
    return static_cast<long long>(i);
  }
  return -1;
}

int start(void* c, long long i) {
  auto& ctx = *static_cast<Context*>(c);
  try {
    return start_point((*ctx.jobs)[std::size_t(i)]);
  } catch (const std::exception&) {
    return -1;
  }
}

void finish(void* c, long long i, int pid, int status, int report) {
  auto& ctx = *static_cast<Context*>(c);
  const PointOutcome outcome = finish_point((*ctx.jobs)[std::size_t(i)], pid, status);
  if (report) (*ctx.on_finished)(std::size_t(i), outcome, false);
}

void remote_finished(void* c, long long i) {
  auto& ctx = *static_cast<Context*>(c);
  (*ctx.on_finished)(std::size_t(i), point_outcome((*ctx.jobs)[std::size_t(i)].output), false);
}

int interrupted(void*) { return interrupt_requested() ? 1 : 0; }

}  // namespace

std::string mpi_module_path() {
  return (std::filesystem::path(self_executable()).parent_path() / "libkvsim_mpi.so").string();
}

MpiSweepResult run_points_mpi(const std::vector<PointJob>& jobs,
                              const std::function<void(std::size_t, const PointOutcome&, bool)>& on_finished) {
  const std::string path = mpi_module_path();
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr)
    throw std::runtime_error("an MPI launcher started kvsim, but its MPI module cannot be loaded (" +
                             std::string(dlerror()) +
                             "); install libopenmpi-dev and rebuild, or run the sweep without mpirun");
  auto share = reinterpret_cast<KvsimMpiShareFn>(dlsym(module, "kvsim_mpi_share_points"));
  if (share == nullptr) throw std::runtime_error(path + " lacks kvsim_mpi_share_points");
  // Non-root ranks report nothing: their finish hook only records the outcome on disk.
  Context context{&jobs, &on_finished, 0};
  KvsimMpiHooks hooks{&context, next_point, start, finish, remote_finished, interrupted};
  const int rc = share(&hooks);
  // The module stays loaded: MPI_Finalize has run, and unloading MPI libraries is unsafe.
  if (rc < 0) throw std::runtime_error("MPI_Init failed");
  MpiSweepResult result;
  result.root = rc == 1;
  result.interrupted = result.root && interrupt_requested();
  return result;
}

}  // namespace kvsim::experiments
