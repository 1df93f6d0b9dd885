// min_ttft: the instance with the smallest estimated time to first token, after Mooncake's
// conductor: for each instance, the time to work off its queue (its outstanding tokens at
// queue_tokens_per_s), plus the prefill of the prompt tokens it lacks (attending to the
// cached part before them, as the engine computes them), plus the time to load the prefix
// blocks it finds below HBM (its node's DRAM or SSD, the remote pool) over the current
// links, loads in flight included. Whether the engine loads that lower-tier part or
// recomputes it is the engine's choice (kvcache.load_vs_recompute: always, never, or when
// the load beats recomputing those blocks), which the view reports: the estimate takes the
// same branch. Ties go to the lowest index.
// Parameters: queue_tokens_per_s (tokens/s), staleness (s).
#include <algorithm>
#include <limits>

#include "models/scheduling/routing/router.hpp"

namespace kvsim::scheduling::routing {

namespace {
class MinTtft final : public Router {
 public:
  explicit MinTtft(const Params& p) : rate_(p.at("queue_tokens_per_s")), loads_(p.at("staleness")) {}
  void attach(const RouterView& view) override { view_ = &view; }
  std::size_t route(const workload::Request& request, std::span<const ServingEngine* const> instances,
                    double now) override {
    const auto& load = loads_.loads(instances, now);
    hits_.assign(instances.size(), PrefixHit{});
    if (view_ && !request.blocks.empty()) view_->prefix_hits(request, 2, hits_);  // all instances in one walk
    std::size_t best = 0;
    double best_ttft = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const double ttft = estimate(i, request, load[i], hits_[i]);
      if (ttft < best_ttft) {
        best = i;
        best_ttft = ttft;
      }
    }
    loads_.sent(best, request);
    return best;
  }

 private:
  double estimate(std::size_t i, const workload::Request& request, double load, const PrefixHit& hit) const {
    const double queue = rate_ > 0 ? load / rate_ : 0;
    if (!view_) return queue;
    const std::uint32_t bs = view_->block_size();
    const std::uint32_t input = request.input_tokens;
    const auto tokens_of = [&](std::uint32_t blocks) { return std::min<std::uint32_t>(input, blocks * bs); };
    const std::uint32_t in_hbm = tokens_of(hit.hbm);
    const std::uint32_t found = tokens_of(hit.total());
    const double recompute = view_->prefill_seconds(i, input - in_hbm, in_hbm);
    if (found == in_hbm || !view_->would_load(i, hit)) return queue + recompute;
    return queue + view_->prefill_seconds(i, input - found, found) + view_->load_seconds(i, hit);
  }

  double rate_;
  LoadSnapshot loads_;
  const RouterView* view_ = nullptr;
  std::vector<PrefixHit> hits_;  // scratch, per instance
};
}  // namespace

std::unique_ptr<Router> make_min_ttft(const Params& p) { return std::make_unique<MinTtft>(p); }

}  // namespace kvsim::scheduling::routing
