#include "sim/engine/router_view.hpp"

#include <algorithm>
#include <map>

#include "models/kvcache/prefetch_ahead.hpp"
#include "sim/engine/kv_tiers.hpp"

namespace kvsim::engine {

EngineRouterView::EngineRouterView(const RunState& run) : run_(run) {}

EngineRouterView::~EngineRouterView() {
  // The engines outlive the view: stop them reporting to a directory about to go.
  if (directory_)
    for (const auto& instance : run_.instances) instance->engine->report_blocks_to(nullptr, 0);
}

std::uint32_t EngineRouterView::lookup_limit(const workload::Request& request) const {
  return std::min<std::uint32_t>(std::uint32_t(request.blocks.size()), (request.input_tokens - 1) / block_size());
}

EngineRouterView::Lower EngineRouterView::lower_run(std::size_t instance, const workload::Request& request,
                                                    std::uint32_t from, std::uint32_t max_blocks, int deepest) const {
  Lower lower{};
  if (from >= max_blocks) return lower;
  const auto serving = run_.lower_tiers->serving(int(instance));
  const auto& stores = run_.lower_tiers->stores();
  const int levels = std::min(deepest, kTierKinds - 1) + 1;
  const auto ids = std::span(request.blocks).subspan(from, max_blocks - from);
  // The nearest tier is probed ahead; a deeper one only sees the blocks its upper tiers miss.
  const kvcache::TierStore* nearest = nullptr;
  for (int k = levels - 1; k >= 0; --k)
    if (serving[std::size_t(k)] >= 0) nearest = stores[std::size_t(serving[std::size_t(k)])].store.get();
  kvcache::walk_ahead(
      ids.size(),
      [&](std::size_t j) {
        if (nearest) nearest->prefetch(ids[j]);
      },
      [&](std::size_t b) {
        int found = -1;
        for (int k = 0; k < levels && found < 0; ++k)
          if (serving[std::size_t(k)] >= 0 && stores[std::size_t(serving[std::size_t(k)])].store->contains(ids[b]))
            found = k;
        if (found < 0) return false;
        ++lower[std::size_t(found)];
        return true;
      });
  return lower;
}

scheduling::routing::PrefixHit EngineRouterView::prefix_hit(std::size_t instance, const workload::Request& request,
                                                            int deepest) const {
  scheduling::routing::PrefixHit hit;
  if (request.blocks.empty() || request.input_tokens == 0 || !caches(instance)) return hit;
  const std::uint32_t max_blocks = lookup_limit(request);
  hit.hbm = run_.instances[instance]->engine->blocks().match_prefix(request.blocks, max_blocks);
  if (!run_.lower_tiers || deepest < 0) return hit;
  hit.lower = lower_run(instance, request, hit.hbm, max_blocks, deepest);
  return hit;
}

void EngineRouterView::build_directory() const {
  const std::size_t n = run_.instances.size();
  // Sized for one instance's pool: it grows as the caches fill (most identities are held by
  // one instance, but reserving for all pools at once would touch memory never used).
  std::size_t blocks = 0;
  for (const auto& instance : run_.instances) blocks = std::max<std::size_t>(blocks, instance->engine->blocks().capacity());
  directory_ = std::make_unique<kvcache::PrefixDirectory>(std::uint32_t(n), blocks);
  for (std::size_t i = 0; i < n; ++i) run_.instances[i]->engine->report_blocks_to(directory_.get(), std::uint32_t(i));
  // Instances served by the same lower-tier stores (a node's) see the same lower-tier runs.
  std::map<std::array<int, kTierKinds>, std::uint32_t> groups;
  group_.assign(n, 0);
  if (run_.lower_tiers)
    for (std::size_t i = 0; i < n; ++i)
      group_[i] = groups.try_emplace(run_.lower_tiers->serving(int(i)), std::uint32_t(groups.size())).first->second;
  memo_.resize(std::max<std::size_t>(1, groups.size()));
  members_.assign(memo_.size(), {});
  for (std::size_t i = 0; i < n; ++i) members_[group_[i]].push_back(std::uint32_t(i));
  in_hbm_.assign(n, 0);
}

EngineRouterView::Lower EngineRouterView::group_lower_run(std::size_t instance, const workload::Request& request,
                                                          std::uint32_t from, std::uint32_t max_blocks,
                                                          int deepest) const {
  auto& memo = memo_[group_[instance]];
  const auto known = std::find_if(memo.begin(), memo.end(), [&](const auto& m) { return m.first == from; });
  if (known != memo.end()) return known->second;
  const Lower lower = lower_run(instance, request, from, max_blocks, deepest);
  memo.emplace_back(from, lower);
  return lower;
}

void EngineRouterView::prefix_hits(const workload::Request& request, int deepest,
                                   std::vector<scheduling::routing::PrefixHit>& hits) const {
  std::fill(hits.begin(), hits.end(), scheduling::routing::PrefixHit{});
  if (request.blocks.empty() || request.input_tokens == 0) return;
  if (!directory_) build_directory();
  const std::uint32_t max_blocks = lookup_limit(request);
  directory_->match(request.blocks, max_blocks, depth_);
  for (std::size_t i = 0; i < hits.size(); ++i) hits[i].hbm = depth_[i];
  if (!run_.lower_tiers || deepest < 0) return;
  for (auto& m : memo_) m.clear();
  for (std::size_t i = 0; i < hits.size(); ++i)
    if (caches(i)) hits[i].lower = group_lower_run(i, request, hits[i].hbm, max_blocks, deepest);
}

void EngineRouterView::prefix_holders(const workload::Request& request, int deepest, std::size_t instances,
                                      std::vector<std::pair<std::uint32_t, scheduling::routing::PrefixHit>>& found) const {
  found.clear();
  if (request.blocks.empty() || request.input_tokens == 0) return;
  if (!directory_) build_directory();
  const std::uint32_t max_blocks = lookup_limit(request);
  directory_->match_holders(request.blocks, max_blocks, held_);
  const bool lower = run_.lower_tiers && deepest >= 0;
  for (auto& m : memo_) m.clear();
  // Instances with a prefix in HBM: their lower-tier run continues after it.
  for (const auto& [instance, hbm] : held_) {
    scheduling::routing::PrefixHit hit;
    hit.hbm = hbm;
    if (lower) hit.lower = group_lower_run(instance, request, hbm, max_blocks, deepest);
    found.emplace_back(instance, hit);
    in_hbm_[instance] = 1;
  }
  // Every other instance holds nothing in HBM: its hit is its group's lower-tier run from
  // the first block, walked once per group.
  if (lower)
    for (const auto& members : members_) {
      if (members.empty()) continue;
      scheduling::routing::PrefixHit hit;
      hit.lower = group_lower_run(members.front(), request, 0, max_blocks, deepest);
      if (hit.total() == 0) continue;
      for (const std::uint32_t i : members)
        if (!in_hbm_[i] && caches(i)) found.emplace_back(i, hit);
    }
  for (const auto& entry : held_) in_hbm_[entry.first] = 0;
  (void)instances;  // all of the run's instances: the directory knows them
}

namespace {
std::vector<kvcache::TierRun> lower_runs(const scheduling::routing::PrefixHit& hit) {
  std::vector<kvcache::TierRun> runs;
  for (int k = 0; k < kTierKinds; ++k)
    if (hit.lower[std::size_t(k)] > 0) runs.push_back({k, 0, hit.lower[std::size_t(k)]});
  return runs;
}
}  // namespace

double EngineRouterView::load_seconds(std::size_t instance, const scheduling::routing::PrefixHit& hit) const {
  const auto& tiers = run_.instances[instance]->tiers;
  if (!tiers) return 0;
  const auto runs = lower_runs(hit);
  return runs.empty() ? 0 : tiers->estimate_load_time(runs);
}

bool EngineRouterView::would_load(std::size_t instance, const scheduling::routing::PrefixHit& hit) const {
  const auto& tiers = run_.instances[instance]->tiers;
  const auto runs = lower_runs(hit);
  if (!tiers || runs.empty()) return false;
  // The engine's own comparison (ServingEngine::try_start_load), with the same inputs.
  const std::uint64_t bs = block_size();
  const std::uint64_t found = hit.total() - hit.hbm;
  return tiers->should_load(runs, run_.instances[instance]->engine->recompute_seconds(hit.hbm * bs, found * bs));
}

double EngineRouterView::prefill_seconds(std::size_t instance, std::uint32_t tokens, std::uint32_t cached) const {
  if (tokens == 0) return 0;
  return run_.instances[instance]->engine->prefill_time_after(cached, tokens);
}

}  // namespace kvsim::engine
