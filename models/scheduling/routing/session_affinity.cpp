// session_affinity: the turns of one conversation (Request::session) go to the instance that
// served its first turn, where its context is cached, unless that instance's outstanding
// tokens exceed the least-loaded instance's by more than overload_tokens; then the session
// moves to the least-loaded instance and stays there. A new session goes to the least
// loaded instance (ties: lowest index). The sticky-session routing of serving gateways.
// Parameters: overload_tokens (tokens), staleness (s).
#include <unordered_map>

#include "models/scheduling/routing/router.hpp"

namespace kvsim::scheduling::routing {

namespace {
class SessionAffinity final : public Router {
 public:
  explicit SessionAffinity(const Params& p) : overload_(p.at("overload_tokens")), loads_(p.at("staleness")) {}
  std::size_t route(const workload::Request& request, std::span<const ServingEngine* const> instances,
                    double now) override {
    const std::size_t least = loads_.least(instances, now);  // ordered loads: no scan
    auto [it, fresh] = home_.try_emplace(request.session, least);
    if (!fresh && (it->second >= instances.size() || loads_.load(it->second) - loads_.load(least) > overload_))
      it->second = least;
    loads_.sent(it->second, request);
    return it->second;
  }

 private:
  double overload_;
  LoadSnapshot loads_;
  std::unordered_map<std::uint64_t, std::size_t> home_;  // session → its instance
};
}  // namespace

std::unique_ptr<Router> make_session_affinity(const Params& p) { return std::make_unique<SessionAffinity>(p); }

}  // namespace kvsim::scheduling::routing
