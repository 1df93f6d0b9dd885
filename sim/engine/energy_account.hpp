// Feeds each applied engine step to the run's energy meter (sim/results/energy.hpp): its
// duration and its utilisation, the share of the step the GPUs run kernels, from the
// step-time model's breakdown: (total − CPU overhead) / total.
#pragma once

#include <cstddef>

#include "models/compute/perf_model.hpp"

namespace kvsim::engine {

struct RunState;
struct Instance;

double kernel_share(const compute::StepBreakdown& breakdown);

// The n steps of the instance's plan starting at start, about to be applied (their kernel
// shares were computed with the plan, by the same kernel_share rule).
void account_energy(RunState& run, const Instance& instance, double start, std::size_t n);

}  // namespace kvsim::engine
