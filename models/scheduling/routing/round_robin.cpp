// round_robin: the i-th request goes to instance i mod N. The baseline every serving
// stack ships; blind to load and to where a prefix is cached. No parameters.
#include "models/scheduling/routing/router.hpp"

namespace kvsim::scheduling::routing {

namespace {
class RoundRobin final : public Router {
 public:
  std::size_t route(const workload::Request&, std::span<const ServingEngine* const> instances, double) override {
    return next_++ % instances.size();
  }

 private:
  std::size_t next_ = 0;
};
}  // namespace

std::unique_ptr<Router> make_round_robin(const Params&) { return std::make_unique<RoundRobin>(); }

}  // namespace kvsim::scheduling::routing
