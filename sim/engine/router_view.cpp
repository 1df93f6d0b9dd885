#include "sim/engine/router_view.hpp"

#include <algorithm>

#include "sim/engine/kv_tiers.hpp"

namespace kvsim::engine {

scheduling::routing::PrefixHit EngineRouterView::prefix_hit(std::size_t instance, const workload::Request& request,
                                                            int deepest) const {
  scheduling::routing::PrefixHit hit;
  if (request.blocks.empty() || request.input_tokens == 0) return hit;
  // As the engine matches: full blocks of at most input - 1 tokens (the last token is computed).
  const std::uint32_t max_blocks = std::min<std::uint32_t>(std::uint32_t(request.blocks.size()),
                                                           (request.input_tokens - 1) / block_size());
  const auto& engine = *run_.instances[instance]->engine;
  hit.hbm = engine.blocks().match_prefix(request.blocks, max_blocks);
  if (!run_.lower_tiers || deepest < 0) return hit;
  const auto serving = run_.lower_tiers->serving(int(instance));
  const auto& stores = run_.lower_tiers->stores();
  for (std::uint32_t b = hit.hbm; b < max_blocks; ++b) {
    int found = -1;
    for (int k = 0; k <= std::min(deepest, kTierKinds - 1) && found < 0; ++k)
      if (serving[std::size_t(k)] >= 0 && stores[std::size_t(serving[std::size_t(k)])].store->contains(request.blocks[b]))
        found = k;
    if (found < 0) break;
    ++hit.lower[std::size_t(found)];
  }
  return hit;
}

double EngineRouterView::load_seconds(std::size_t instance, const scheduling::routing::PrefixHit& hit) const {
  const auto& tiers = run_.instances[instance]->tiers;
  if (!tiers) return 0;
  std::vector<kvcache::TierRun> runs;
  for (int k = 0; k < kTierKinds; ++k)
    if (hit.lower[std::size_t(k)] > 0) runs.push_back({k, 0, hit.lower[std::size_t(k)]});
  return runs.empty() ? 0 : tiers->estimate_load_time(runs);
}

double EngineRouterView::prefill_seconds(std::size_t instance, std::uint32_t tokens) const {
  if (tokens == 0) return 0;
  workload::Request probe;
  probe.input_tokens = tokens;
  probe.output_tokens = 1;
  return run_.instances[instance]->engine->solo_latency(probe);
}

}  // namespace kvsim::engine
