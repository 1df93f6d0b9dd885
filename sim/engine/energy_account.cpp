#include "sim/engine/energy_account.hpp"

#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

double kernel_share(const compute::StepBreakdown& b) {
  const double total = b.total();
  if (total <= 0) return 0.0;
  const double share = (total - b.overhead) / total;
  return share < 0 ? 0.0 : (share > 1 ? 1.0 : share);
}

void account_energy(RunState& run, const Instance& instance, double start, std::size_t n) {
  const auto& engine = *instance.engine;
  compute::BatchShape shape = engine.last_shape();
  double begin = start;
  for (std::size_t j = 0; j < n; ++j) {
    if (j > 0) shape.advance_decode();
    const double end = engine.current_plan().end(j);
    run.energy.add_step(std::size_t(instance.index), begin, end, kernel_share(run.perf->breakdown(shape)));
    begin = end;
  }
}

}  // namespace kvsim::engine
