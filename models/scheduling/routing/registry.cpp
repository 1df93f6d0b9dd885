// The router registry: adding a router is one file plus one line here.
#include "models/scheduling/routing/router.hpp"

#include <stdexcept>

namespace kvsim::scheduling::routing {

std::unique_ptr<Router> make_round_robin();
std::unique_ptr<Router> make_least_loaded();

const std::vector<RouterEntry>& routers() {
  static const std::vector<RouterEntry> entries{
      {"round_robin", "cycles through instances in index order, ignoring their load", make_round_robin},
      {"least_loaded", "the instance with the fewest outstanding tokens (prompt tokens to compute plus output tokens to generate); ties go to the lowest index", make_least_loaded},
  };
  return entries;
}

std::vector<std::string> router_names() {
  std::vector<std::string> names;
  for (const auto& e : routers()) names.push_back(e.name);
  return names;
}

std::unique_ptr<Router> make_router(const std::string& name) {
  for (const auto& e : routers())
    if (e.name == name) return e.make();
  std::string valid;
  for (const auto& e : routers()) valid += (valid.empty() ? "" : ", ") + e.name;
  throw std::invalid_argument("unknown router \"" + name + "\"; valid routers: " + valid);
}

}  // namespace kvsim::scheduling::routing
