// Sharing a sweep's points among MPI ranks (`mpirun -n N kvsim sweep ...`, or srun).
//
// Scheme: rank 0 hands out point indices on request (dynamic: a rank asks for the next
// point when its current one ends, so long points do not stall anyone) and runs points
// itself between requests; ranks report nothing but "done with i", because each point's
// outcome is on the shared filesystem (see point_runner.hpp). Rank 0 writes the index.
//
// The MPI code lives in a module loaded at run time (mpi_hooks.hpp): kvsim needs MPI only
// when a launcher started it.
#pragma once

#include <functional>
#include <vector>

#include "sim/experiments/point_runner.hpp"

namespace kvsim::experiments {

struct MpiSweepResult {
  bool root = true;          // this rank writes the index and reports
  bool interrupted = false;  // rank 0 stopped handing out points after a signal
};

// on_finished is called on rank 0 only, once per point, in completion order. Throws
// std::runtime_error when the MPI module is missing (kvsim built without MPI).
MpiSweepResult run_points_mpi(const std::vector<PointJob>& jobs,
                              const std::function<void(std::size_t, const PointOutcome&, bool)>& on_finished);

// Path of the MPI module beside the executable.
std::string mpi_module_path();

}  // namespace kvsim::experiments
