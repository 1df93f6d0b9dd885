// least_loaded: the instance with the fewest outstanding tokens at the arrival instant
// (prompt tokens still to compute plus output tokens still to generate, over everything
// routed to it), as in the "least outstanding work" routers of serving front-ends.
// Ties go to the lowest index so runs are deterministic. No parameters.
#include "models/scheduling/routing/router.hpp"

namespace kvsim::scheduling::routing {

namespace {
class LeastLoaded final : public Router {
 public:
  std::size_t route(const workload::Request&, std::span<const ServingEngine* const> instances,
                    double now) override {
    std::size_t best = 0;
    double best_load = instances[0]->outstanding_tokens(now);
    for (std::size_t i = 1; i < instances.size(); ++i) {
      const double load = instances[i]->outstanding_tokens(now);
      if (load < best_load) {
        best = i;
        best_load = load;
      }
    }
    return best;
  }
};
}  // namespace

std::unique_ptr<Router> make_least_loaded(const Params&) { return std::make_unique<LeastLoaded>(); }

}  // namespace kvsim::scheduling::routing
