// wa — the workload-aware eviction policy of the Alibaba Bailian KV$ study (Wang et al.,
// "KVCache cache in the wild", USENIX ATC'25). Reuse of a block is predicted from the
// category (request type x turn) of the request that last touched it, with the
// exponential reuse-time model of wa_profile.hpp fitted offline by
// `kvsim trace profile TRACE --until T -o wa.toml`; eviction compares the oldest block of
// each category by its probability of reuse within the look-ahead window and evicts the
// least likely (wa_core.hpp). Within a request, tail blocks are
// released before head blocks because the cache touches a request's blocks tail to head.
// Categories absent from the profile, or without lambda, have priority 0.
// Parameters: lookahead (s, default 5), the window D of the reuse probability;
// once_first (default 0; 1 is an experiment, not the paper's policy): blocks accessed
// once are evicted before reused ones; the
// profile (PolicyParams::profile, `--wa-profile`), whose categories are matched by name.
#include "models/kvcache/eviction/wa_core.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Wa final : public WorkloadAwarePolicy {
 public:
  Wa(const CacheState& state, double lookahead, bool once_first, std::shared_ptr<const WaProfile> profile)
      : WorkloadAwarePolicy(state, lookahead, once_first), profile_(std::move(profile)) {}

 protected:
  CategoryModel model(std::uint16_t category) override {
    // Category names may be registered after construction: resolve lazily, once each.
    while (models_.size() <= category) {
      CategoryModel m;
      const std::size_t k = models_.size();
      if (k < state_.category_names.size())
        if (auto it = profile_->categories.find(state_.category_names[k]); it != profile_->categories.end())
          m = it->second;
      models_.push_back(m);
    }
    return models_[category];
  }

 private:
  std::shared_ptr<const WaProfile> profile_;
  std::vector<CategoryModel> models_;
};

}  // namespace

std::unique_ptr<Policy> make_wa(const CacheState& state, const PolicyParams& params) {
  return std::make_unique<Wa>(state, params.at("lookahead"), params.at("once_first") != 0, params.profile);
}

}  // namespace kvsim::kvcache::eviction
