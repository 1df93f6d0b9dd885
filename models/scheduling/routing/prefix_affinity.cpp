// prefix_affinity: the instance that already holds the longest prefix of the request's prompt
// (leading blocks in its HBM, continued in its node's DRAM), as the cache-aware routers of
// SGLang's router and llm-d do, bounded by load: an instance is a candidate only while its
// outstanding tokens exceed the least-loaded instance's by at most imbalance_tokens, or
// are at most imbalance_ratio times them. Among candidates the longest prefix wins, then
// the lower load, then the lower index; with no prefix cached on any candidate the
// request goes to the least-loaded instance.
// Parameters: imbalance_tokens (tokens), imbalance_ratio, staleness (s). Cached prefixes are
// seen as they are (the engines' KV events); loads may be stale by staleness.
// How it differs from the systems it follows: SGLang's router gates the whole cluster (while
// any two workers differ by more than its absolute AND relative thresholds, every request
// goes to the shortest queue), counts load in requests, routes to the best match only above
// a match ratio (cache_threshold) and otherwise to the worker with the most free cache, and
// knows the caches only from the requests it routed. Here the same pair of thresholds bounds
// each holder against the least loaded, in tokens, any cached prefix counts, and the caches
// are the engines' own, as llm-d's KV-event indexer sees them (llm-d weighs prefix and load
// scores instead of bounding one by the other).
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
    // Only the least-loaded instance and those holding a prefix are looked at (the loads
    // come ordered, the holders from the view's cluster-wide index), so a request costs
    // the same at 16 instances as at 1,024 when its prefix lives on a few.
    const std::size_t least = loads_.least(instances, now);
    const double least_load = loads_.load(least);
    std::size_t best = least;
    std::uint32_t best_blocks = 0;
    double best_load = least_load;
    if (view_ && !request.blocks.empty()) {
      view_->prefix_holders(request, 0, instances.size(), holders_);  // HBM and the node's DRAM
      for (const auto& [i, hit] : holders_) {
        const double load = loads_.load(i);
        const double excess = load - least_load;
        if (excess > imbalance_tokens_ && load > imbalance_ratio_ * least_load) continue;
        // Longest prefix, then lower load, then lower index (holders_ comes in no order).
        const std::uint32_t blocks = hit.hbm + hit.lower[0];
        if (blocks == 0) continue;
        if (blocks > best_blocks || (blocks == best_blocks && (load < best_load || (load == best_load && i < best)))) {
          best = i;
          best_blocks = blocks;
          best_load = load;
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
  std::vector<std::pair<std::uint32_t, PrefixHit>> holders_;  // scratch: instances with a prefix
};
}  // namespace

std::unique_ptr<Router> make_prefix_affinity(const Params& p) { return std::make_unique<PrefixAffinity>(p); }

}  // namespace kvsim::scheduling::routing
