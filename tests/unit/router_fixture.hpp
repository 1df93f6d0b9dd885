// What the router unit tests share: engines with a fake step model give the loads
// (outstanding tokens = prompt + output of what was enqueued), a hand-written RouterView
// gives the cached prefixes, the load and prefill times and whether a lower-tier hit would
// be loaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "models/kvcache/tier_hierarchy.hpp"
#include "models/scheduling/routing/router.hpp"
#include "models/scheduling/serving_engine.hpp"

namespace kvsim::test {

class RouterFakePerf final : public compute::PerfModel {
 public:
  compute::StepBreakdown breakdown(const compute::BatchShape& batch) const override {
    compute::StepBreakdown s;
    s.overhead = 0.01;
    s.linear = double(batch.new_tokens) * 1e-4;
    return s;
  }
};

class FakeRouterView final : public scheduling::routing::RouterView {
 public:
  std::map<std::size_t, scheduling::routing::PrefixHit> hits;
  std::map<std::size_t, double> load_time;  // seconds to load an instance's lower-tier hit
  // Prefill of t tokens after c cached ones: t x 0.1 ms + t x c x pair_seconds (the
  // attention of the new tokens to the cached context; 0 unless a test sets it).
  double pair_seconds = 0;
  // Whether a lower-tier hit is loaded: always, never, or (auto) when its load time beats
  // recomputing its tokens (prefill_seconds of them after the HBM part).
  kvcache::LoadRule rule = kvcache::LoadRule::auto_choice;
  std::uint64_t run_seed = 11;

  scheduling::routing::PrefixHit prefix_hit(std::size_t i, const workload::Request&, int) const override {
    auto it = hits.find(i);
    return it == hits.end() ? scheduling::routing::PrefixHit{} : it->second;
  }
  double load_seconds(std::size_t i, const scheduling::routing::PrefixHit& hit) const override {
    auto it = load_time.find(i);
    return hit.total() == hit.hbm || it == load_time.end() ? 0 : it->second;
  }
  double prefill_seconds(std::size_t, std::uint32_t tokens, std::uint32_t cached) const override {
    return tokens * 1e-4 + double(tokens) * double(cached) * pair_seconds;
  }
  bool would_load(std::size_t i, const scheduling::routing::PrefixHit& hit) const override {
    if (hit.total() == hit.hbm || rule == kvcache::LoadRule::recompute) return false;
    if (rule == kvcache::LoadRule::load) return true;
    return load_seconds(i, hit) < prefill_seconds(i, (hit.total() - hit.hbm) * block_size(), hit.hbm * block_size());
  }
  std::uint32_t block_size() const override { return 16; }
  std::uint64_t seed() const override { return run_seed; }
};

struct RouterCluster {
  RouterFakePerf perf;
  std::vector<std::unique_ptr<scheduling::ServingEngine>> engines;
  std::vector<const scheduling::ServingEngine*> views;
  std::uint64_t next_id = 1000;
  explicit RouterCluster(std::size_t n) {
    scheduling::EngineParams p;
    p.num_blocks = 100000;
    for (std::size_t i = 0; i < n; ++i) {
      engines.push_back(std::make_unique<scheduling::ServingEngine>(p, perf));
      views.push_back(engines.back().get());
    }
  }
  // Adds tokens of outstanding work to instance i (one request of tokens - 1 prompt + 1
  // output; tokens >= 2).
  void load(std::size_t i, std::uint32_t tokens) {
    workload::Request r;
    r.id = next_id++;
    r.input_tokens = tokens - 1;
    r.output_tokens = 1;
    engines[i]->enqueue(r);
  }
  double outstanding(std::size_t i) const { return engines[i]->outstanding_tokens(0); }
};

// A request of session `session` with input prompt tokens in 16-token blocks and 10 output
// tokens (input + 10 outstanding tokens once sent).
inline workload::Request router_request(std::uint64_t session, std::uint32_t input = 1600) {
  workload::Request r;
  r.id = session * 100;
  r.session = session;
  r.input_tokens = input;
  r.output_tokens = 10;
  r.blocks.assign((input + 15) / 16, 1);  // contents do not matter to the fake view
  return r;
}

}  // namespace kvsim::test
