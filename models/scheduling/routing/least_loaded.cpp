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
    return loads_.least(instances, now);  // ordered by the board: no scan
  }

 private:
  LoadSnapshot loads_{0};  // live loads, read through the engines' load board
};
}  // namespace

std::unique_ptr<Router> make_least_loaded(const Params&) { return std::make_unique<LeastLoaded>(); }

}  // namespace kvsim::scheduling::routing
