// The routers' view of a run (models/scheduling/routing/router_view.hpp) over the real
// caches: HBM prefix matches through each engine's block manager, lower-tier matches through
// the stores that serve the instance (the same walk as KvTiers::match, without touching
// anything), load estimates through KvTiers, prefill times through the engine's step model.
#pragma once

#include "models/scheduling/routing/router_view.hpp"
#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

class EngineRouterView final : public scheduling::routing::RouterView {
 public:
  explicit EngineRouterView(const RunState& run) : run_(run) {}
  scheduling::routing::PrefixHit prefix_hit(std::size_t instance, const workload::Request& request,
                                            int deepest) const override;
  double load_seconds(std::size_t instance, const scheduling::routing::PrefixHit& hit) const override;
  double prefill_seconds(std::size_t instance, std::uint32_t tokens) const override;
  std::uint32_t block_size() const override { return run_.scenario.engine.block_size; }
  std::uint64_t seed() const override { return run_.scenario.seed; }

 private:
  const RunState& run_;
};

}  // namespace kvsim::engine
