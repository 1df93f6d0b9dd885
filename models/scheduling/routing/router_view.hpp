// What a router may know about the instances beyond their engines' public state, and the
// load figures it acts on, possibly stale.
//
// RouterView answers the questions of cache-aware routers: how much of this request's
// prompt an instance could reuse (leading blocks in its HBM, then the following blocks in
// the tiers below HBM that serve it: its node's DRAM, SSD, the remote pool), how long
// loading that lower-tier part would take over the current links, and how long a prefill
// takes there. The simulation implements it over the real caches (sim/engine/router_view.cpp),
// as llm-d's KV-cache indexer and Mooncake's conductor learn them from the engines' KV
// events; tests implement it by hand.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "models/scheduling/load_board.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "workloads/request.hpp"

namespace kvsim::scheduling::routing {

struct PrefixHit {
  std::uint32_t hbm = 0;                  // leading full prompt blocks in the instance's HBM
  std::array<std::uint32_t, 3> lower{};   // following blocks in dram, ssd, remote
  std::uint32_t total() const { return hbm + lower[0] + lower[1] + lower[2]; }
};

class RouterView {
 public:
  virtual ~RouterView() = default;
  // Looks in HBM and the lower tiers down to deepest (0 = dram, 1 = ssd, 2 = remote; -1 = HBM
  // only): a router that weighs only near tiers need not walk the shared remote pool once
  // per instance.
  virtual PrefixHit prefix_hit(std::size_t instance, const workload::Request& request, int deepest = 2) const = 0;
  // prefix_hit of every instance at once, into hits (its size is the number of instances):
  // a view over a cluster-wide block index answers in one walk of the prompt instead of one
  // per instance. Must equal calling prefix_hit for each.
  virtual void prefix_hits(const workload::Request& request, int deepest, std::vector<PrefixHit>& hits) const {
    for (std::size_t i = 0; i < hits.size(); ++i) hits[i] = prefix_hit(i, request, deepest);
  }
  // The instances (of instances in all) whose prefix_hit(instance, request, deepest) has
  // total() > 0, with their hits, in no particular order, into found (its old contents are
  // dropped): a view over a cluster-wide block index answers in time proportional to the
  // instances holding the prefix, not to all of them. Must agree with prefix_hit.
  virtual void prefix_holders(const workload::Request& request, int deepest, std::size_t instances,
                              std::vector<std::pair<std::uint32_t, PrefixHit>>& found) const {
    found.clear();
    for (std::size_t i = 0; i < instances; ++i)
      if (const PrefixHit hit = prefix_hit(i, request, deepest); hit.total() > 0) found.emplace_back(std::uint32_t(i), hit);
  }
  // Expected seconds to load hit's lower-tier blocks into the instance's HBM now, loads in
  // flight included; 0 when there are none.
  virtual double load_seconds(std::size_t instance, const PrefixHit& hit) const = 0;
  // Seconds the instance takes, alone, to prefill tokens prompt tokens that follow cached
  // tokens already in its HBM: their attention reads the cached context, so the part of a
  // long prompt an instance lacks costs more than a fresh prompt of that length.
  virtual double prefill_seconds(std::size_t instance, std::uint32_t tokens, std::uint32_t cached) const = 0;
  // Whether the instance's engine, admitting the request now, would load hit's lower-tier
  // blocks rather than recompute them: kvcache.load_vs_recompute says always, never, or
  // (auto) when load_seconds beats the engine's cost of recomputing those blocks.
  virtual bool would_load(std::size_t instance, const PrefixHit& hit) const = 0;
  virtual std::uint32_t block_size() const = 0;
  // The run's seed, for routers that draw (each derives its own stream from it).
  virtual std::uint64_t seed() const = 0;
};

// Outstanding tokens per instance as a router sees them: read from the engines at most every
// `staleness` seconds (0 = at every request), plus what the router itself sent since (a
// real router knows what it dispatched, not what the engines did with it). The reading is
// taken at the first request at least `staleness` after the previous one (the first request
// takes the first), not on a fixed clock: a request after a quiet spell sees fresh loads, as
// a router that polls on demand would.
class LoadSnapshot {
 public:
  explicit LoadSnapshot(double staleness) : staleness_(staleness) {}

  const std::vector<double>& loads(std::span<const ServingEngine* const> instances, double now) {
    if (loads_.size() != instances.size() || !(now - taken_ < staleness_)) {
      watch(instances);
      loads_.resize(instances.size());
      for (std::size_t i = 0; i < instances.size(); ++i)
        loads_[i] = board_->load(std::uint32_t(i), *instances[i], now);
      taken_ = now;
      if (ordered_) {
        least_.reset(loads_.size());
        least_.assign(loads_);
      }
    }
    return loads_;
  }
  // The least-loaded instance as the router sees it now (ties go to the lowest index, as
  // least_loaded_index(loads()) would answer), for a router that then reads the loads of
  // a few instances only (load()): O(log instances) per request instead of a scan (live
  // loads come ordered from the board; a stale snapshot is ordered once per period).
  std::size_t least(std::span<const ServingEngine* const> instances, double now) {
    if (staleness_ == 0) {
      watch(instances);
      board_->refresh(instances, now);
      return board_->least();
    }
    if (!ordered_) {
      ordered_ = true;
      least_.reset(loads_.size());  // the snapshot taken so far, if any, ordered now
      least_.assign(loads_);
    }
    loads(instances, now);
    return least_.least();
  }
  // After least(instances, now): instance's load as the router sees it now.
  double load(std::size_t instance) const {
    return staleness_ == 0 ? board_->load(std::uint32_t(instance)) : loads_[instance];
  }
  // The router sent request to instance (after loads() or least() with the instances): the
  // work that instance will count for it (ServingEngine::work_of).
  void sent(std::size_t instance, const workload::Request& request) {
    if (staleness_ == 0) return;
    loads_[instance] += watched_[instance]->work_of(request);
    if (ordered_) least_.set(instance, loads_[instance]);
  }

 private:
  // The engines' figures come through a board they keep current (load_board.hpp), made
  // anew whenever the router is handed other engines.
  void watch(std::span<const ServingEngine* const> instances) {
    if (board_ && std::equal(instances.begin(), instances.end(), watched_.begin(), watched_.end())) return;
    board_ = std::make_shared<LoadBoard>(instances.size());
    watched_.assign(instances.begin(), instances.end());
    for (std::size_t i = 0; i < instances.size(); ++i) instances[i]->watch_load(board_, std::uint32_t(i));
  }

  double staleness_;
  double taken_ = 0;
  std::vector<double> loads_;
  std::shared_ptr<LoadBoard> board_;
  std::vector<const ServingEngine*> watched_;
  bool ordered_ = false;  // least() is used with a stale snapshot: least_ orders loads_
  LeastIndex least_;
};

// Index of the smallest load; ties go to the lowest index.
inline std::size_t least_loaded_index(const std::vector<double>& loads) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < loads.size(); ++i)
    if (loads[i] < loads[best]) best = i;
  return best;
}

}  // namespace kvsim::scheduling::routing
