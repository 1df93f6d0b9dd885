// The routers' view of a run (models/scheduling/routing/router_view.hpp) over the real
// caches: HBM prefix matches through each engine's block manager, lower-tier matches through
// the stores that serve the instance (the same walk as KvTiers::match, without touching
// anything), load estimates through KvTiers, prefill times through the engine's step model.
//
// prefix_hits (all instances at once) answers from a cluster-wide index of the HBM blocks
// (models/kvcache/prefix_directory.hpp), built on its first use from the engines' block
// managers, which keep it up to date from then on; runs whose router never asks pay nothing
// for it. The lower-tier part is walked once per group of instances served by the same
// stores and per HBM match length, not once per instance. prefix_holders (the instances
// with a hit only) lists the directory's holders of the prompt's head, then the members of
// each group whose lower-tier run from the first block is not empty.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "models/kvcache/prefix_directory.hpp"
#include "models/scheduling/routing/router_view.hpp"
#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

class EngineRouterView final : public scheduling::routing::RouterView {
 public:
  explicit EngineRouterView(const RunState& run);
  ~EngineRouterView() override;
  scheduling::routing::PrefixHit prefix_hit(std::size_t instance, const workload::Request& request,
                                            int deepest) const override;
  void prefix_hits(const workload::Request& request, int deepest,
                   std::vector<scheduling::routing::PrefixHit>& hits) const override;
  void prefix_holders(const workload::Request& request, int deepest, std::size_t instances,
                      std::vector<std::pair<std::uint32_t, scheduling::routing::PrefixHit>>& found) const override;
  double load_seconds(std::size_t instance, const scheduling::routing::PrefixHit& hit) const override;
  double prefill_seconds(std::size_t instance, std::uint32_t tokens, std::uint32_t cached) const override;
  bool would_load(std::size_t instance, const scheduling::routing::PrefixHit& hit) const override;
  std::uint32_t block_size() const override { return run_.scenario.engine.block_size; }
  std::uint64_t seed() const override { return run_.scenario.seed; }

 private:
  using Lower = std::array<std::uint32_t, 3>;
  // Full prompt blocks an engine would look up: at most input - 1 tokens (the last token is
  // computed).
  std::uint32_t lookup_limit(const workload::Request& request) const;
  // Blocks ids[from, max_blocks) found one after the other in the tiers serving instance
  // (down to deepest), counted by the nearest tier holding each.
  Lower lower_run(std::size_t instance, const workload::Request& request, std::uint32_t from,
                  std::uint32_t max_blocks, int deepest) const;
  // lower_run from block `from`, remembered per group of instances served by the same
  // stores until the memo is cleared (one walk per group and HBM match length).
  Lower group_lower_run(std::size_t instance, const workload::Request& request, std::uint32_t from,
                        std::uint32_t max_blocks, int deepest) const;
  void build_directory() const;
  // Whether the instance's engine reuses cached prefixes: one that does not (prefix_caching
  // = false) has no hit, whatever the tiers serving it hold.
  bool caches(std::size_t instance) const { return run_.instances[instance]->engine->prefix_caching(); }

  const RunState& run_;
  // Built on the first prefix_hits (mutable: a cache of the view, not its state).
  mutable std::unique_ptr<kvcache::PrefixDirectory> directory_;
  mutable std::vector<std::uint32_t> group_;  // [instance] index of its set of serving stores
  mutable std::vector<std::vector<std::uint32_t>> members_;  // [group] its instances, ascending
  mutable std::vector<std::pair<std::uint32_t, std::uint32_t>> held_;  // scratch: (instance, HBM match)
  mutable std::vector<char> in_hbm_;  // scratch: [instance] listed in held_ (all 0 between calls)
  mutable std::vector<std::uint32_t> depth_;  // scratch: HBM match per instance
  // Scratch: per group, the lower-tier runs already walked, by HBM match length.
  mutable std::vector<std::vector<std::pair<std::uint32_t, Lower>>> memo_;
};

}  // namespace kvsim::engine
