// prefix_affinity: the instance that already holds the longest prefix of the request's prompt
// (leading blocks in its HBM, continued in its node's DRAM), as the cache-aware routers of
// SGLang's router and llm-d do, bounded by load: an instance is a candidate only while its
// outstanding tokens exceed the least-loaded instance's by at most imbalance_tokens, or
// are at most imbalance_ratio times them. Among candidates the longest prefix wins, then
// the lower load, then the lower index; with no prefix cached on any candidate the
// request goes to the least-loaded instance.
// Parameters: imbalance_tokens (tokens), imbalance_ratio, staleness (s). Cached prefixes are
// seen as they are (the engines' KV events); loads may be stale by staleness.
#include "models/scheduling/routing/router.hpp"

namespace kvsim::scheduling::routing {

namespace {
class PrefixAffinity final : public Router {
 public:
  explicit PrefixAffinity(const Params& p)
      : imbalance_tokens_(p.at("imbalance_tokens")), imbalance_ratio_(p.at("imbalance_ratio")), loads_(p.at("staleness")) {}
  void attach(const RouterView& view) override { view_ = &view; }
  std::size_t route(const workload::Request& request, std::span<const ServingEngine* const> instances,
                    double now) override {
    const auto& load = loads_.loads(instances, now);
    const std::size_t least = least_loaded_index(load);
    std::size_t best = least;
    std::uint32_t best_blocks = 0;
    if (view_ && !request.blocks.empty()) {
      hits_.resize(instances.size());
      view_->prefix_hits(request, 0, hits_);  // HBM and the node's DRAM, all instances in one walk
      for (std::size_t i = 0; i < instances.size(); ++i) {
        const double excess = load[i] - load[least];
        if (excess > imbalance_tokens_ && load[i] > imbalance_ratio_ * load[least]) continue;
        const std::uint32_t blocks = hits_[i].hbm + hits_[i].lower[0];
        if (blocks > best_blocks || (blocks == best_blocks && blocks > 0 && load[i] < load[best])) {
          best = i;
          best_blocks = blocks;
        }
      }
    }
    loads_.sent(best, request);
    return best;
  }

 private:
  double imbalance_tokens_;
  double imbalance_ratio_;
  LoadSnapshot loads_;
  const RouterView* view_ = nullptr;
  std::vector<PrefixHit> hits_;  // scratch, per instance
};
}  // namespace

std::unique_ptr<Router> make_prefix_affinity(const Params& p) { return std::make_unique<PrefixAffinity>(p); }

}  // namespace kvsim::scheduling::routing
