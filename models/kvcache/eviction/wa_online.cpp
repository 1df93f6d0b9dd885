// wa-online (registry name "wa-online"; a file name cannot hold the dash) — the
// workload-aware policy of wa.cpp (Bailian study, USENIX ATC'25) with its per-category
// reuse model learned during the run instead of from a profile, with the statistics of
// wa_profile.hpp: every insert and touch is one block access of the toucher's category; a
// touch of a block used before is, unless it comes within kSamePromptWindow, a hit and a
// reuse-time sample (now - previous access) of the block's previous category. Old
// observations are forgotten exponentially: one made t seconds ago weighs
// 2^(-t / half_life), so the model follows shifts of the traffic mix (the minimum reuse
// time is kept over the whole run). Until a category has min_samples weighted samples its
// priority is 0, as for a category missing from the profile of `wa`.
// It sees only reuses of blocks still resident, so it underestimates p for categories
// whose blocks the cache evicts before their reuse.
// Parameters: lookahead (s, default 5), once_first (default 0, as wa), half_life (s,
// default 600), min_samples (default 10).
#include <cmath>
#include <limits>

#include "models/kvcache/eviction/wa_core.hpp"
#include "sim/util/error.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class WaOnline final : public WorkloadAwarePolicy {
 public:
  WaOnline(const CacheState& state, double lookahead, bool once_first, double half_life, double min_samples)
      : WorkloadAwarePolicy(state, lookahead, once_first), half_life_(half_life), min_samples_(min_samples) {}

 protected:
  CategoryModel model(std::uint16_t category) override {
    CategoryModel m;
    if (category >= acc_.size()) return m;
    const Acc& a = acc_[category];
    // Forgetting scales numerators and denominators alike; only the sample weight needs it.
    const double weight = a.samples * std::exp2(-std::max(0.0, state_.now - a.stamp) / half_life_);
    m.samples = static_cast<std::uint64_t>(std::llround(weight));
    if (a.accesses > 0) m.p = std::min(1.0, a.hits / a.accesses);
    if (weight >= min_samples_ && a.samples > 0 && a.sum / a.samples > a.min) m.lambda = 1.0 / (a.sum / a.samples - a.min);
    return m;
  }
  void observed(Slot s) override {
    const BlockMeta& b = state_.blocks[s];
    at(b.category).accesses += 1;
    if (b.accesses < 2) return;
    const double gap = state_.now - b.previous_access;
    if (gap < kSamePromptWindow) return;
    Acc& a = at(b.previous_category);
    a.hits += 1;
    a.samples += 1;
    a.sum += gap;
    a.min = std::min(a.min, gap);
  }

 private:
  struct Acc {
    double samples = 0, sum = 0, accesses = 0, hits = 0;  // weighted as of stamp
    double min = std::numeric_limits<double>::infinity();
    double stamp = 0;
  };
  Acc& at(std::uint16_t category) {
    if (category >= acc_.size()) acc_.resize(category + 1u);
    Acc& a = acc_[category];
    if (state_.now > a.stamp) {
      const double w = std::exp2(-(state_.now - a.stamp) / half_life_);
      a.samples *= w;
      a.sum *= w;
      a.accesses *= w;
      a.hits *= w;
      a.stamp = state_.now;
    }
    return a;
  }

  double half_life_, min_samples_;
  std::vector<Acc> acc_;
};

}  // namespace

std::unique_ptr<Policy> make_wa_online(const CacheState& state, const PolicyParams& params) {
  if (!(params.at("half_life") > 0))
    throw InputError("eviction policy", 0, "wa-online.half_life", "expected a duration > 0 s");
  return std::make_unique<WaOnline>(state, params.at("lookahead"), params.at("once_first") != 0, params.at("half_life"),
                                    params.at("min_samples"));
}

}  // namespace kvsim::kvcache::eviction
