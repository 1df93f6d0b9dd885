// random: each request goes to an instance drawn uniformly at random, from the router's own
// stream of the run's seed (so runs are reproducible). The load-blind baseline of
// randomised load balancing. No parameters.
#include "models/scheduling/routing/router.hpp"
#include "sim/util/random.hpp"

namespace kvsim::scheduling::routing {

namespace {
class Random final : public Router {
 public:
  void attach(const RouterView& view) override { rng_ = Rng::stream(view.seed(), "router.random"); }
  std::size_t route(const workload::Request&, std::span<const ServingEngine* const> instances, double) override {
    return std::size_t(rng_.uniform_int(instances.size()));
  }

 private:
  Rng rng_ = Rng::stream(0, "router.random");
};
}  // namespace

std::unique_ptr<Router> make_random(const Params&) { return std::make_unique<Random>(); }

}  // namespace kvsim::scheduling::routing
