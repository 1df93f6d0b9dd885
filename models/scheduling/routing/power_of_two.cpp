// power_of_two: two distinct instances drawn at random, the one with fewer outstanding
// tokens wins (ties: the first drawn). Mitzenmacher's "power of two choices": nearly the
// balance of least_loaded while looking at two instances only. His analysis of old load
// information (a bulletin board refreshed periodically) shows two random choices degrade
// gracefully where always picking the least loaded herds every request onto one instance;
// kvsim's stale loads add what the router itself sent since the reading, so one router does
// not herd: what staleness hides here is the work the engines finished since.
// Parameters: staleness (s) — how old the loads the router sees may be.
#include "models/scheduling/routing/router.hpp"
#include "sim/util/random.hpp"

namespace kvsim::scheduling::routing {

namespace {
class PowerOfTwo final : public Router {
 public:
  explicit PowerOfTwo(const Params& p) : loads_(p.at("staleness")) {}
  void attach(const RouterView& view) override { rng_ = Rng::stream(view.seed(), "router.power_of_two"); }
  std::size_t route(const workload::Request& request, std::span<const ServingEngine* const> instances,
                    double now) override {
    const auto& load = loads_.loads(instances, now);
    std::size_t chosen = 0;
    if (instances.size() > 1) {
      const std::size_t a = std::size_t(rng_.uniform_int(instances.size()));
      std::size_t b = std::size_t(rng_.uniform_int(instances.size() - 1));
      if (b >= a) ++b;  // distinct from a
      chosen = load[b] < load[a] ? b : a;
    }
    loads_.sent(chosen, request);
    return chosen;
  }

 private:
  LoadSnapshot loads_;
  Rng rng_ = Rng::stream(0, "router.power_of_two");
};
}  // namespace

std::unique_ptr<Router> make_power_of_two(const Params& p) { return std::make_unique<PowerOfTwo>(p); }

}  // namespace kvsim::scheduling::routing
