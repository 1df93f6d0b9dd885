// The router registry: adding a router is one file plus one line here.
#include "models/scheduling/routing/router.hpp"

#include <stdexcept>

namespace kvsim::scheduling::routing {

std::unique_ptr<Router> make_round_robin(const Params&);
std::unique_ptr<Router> make_least_loaded(const Params&);

const Registry<RouterEntry>& routers() {
  static const Registry<RouterEntry> entries{"router", {
      {"round_robin", "cycles through instances in index order, ignoring their load", {}, make_round_robin},
      {"least_loaded", "the instance with the fewest outstanding tokens (prompt tokens to compute plus output tokens to generate); ties go to the lowest index", {}, make_least_loaded},
  }};
  return entries;
}

std::vector<std::string> router_names() { return routers().names(); }

std::unique_ptr<Router> make_router(const std::string& name, const ParamValues& overrides) {
  const RouterEntry& entry = routers().at(name, "scenario", "routing.policy");
  return entry.make(resolve_params(entry.params, overrides, "router \"" + name + "\"", "scenario", "routing.params"));
}

}  // namespace kvsim::scheduling::routing
