#include "sim/engine/energy_account.hpp"

#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

double kernel_share(const compute::StepBreakdown& b) { return b.kernel_share(); }

void account_energy(RunState& run, const Instance& instance, double start, std::size_t n) {
  const auto& plan = instance.engine->current_plan();
  double begin = start;
  for (std::size_t j = 0; j < n; ++j) {
    const double end = plan.end(j);
    run.energy.add_step(std::size_t(instance.index), begin, end, plan.kernel_share(j));
    begin = end;
  }
}

}  // namespace kvsim::engine
