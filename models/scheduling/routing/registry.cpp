// The router registry: adding a router is one file plus one line here.
#include "models/scheduling/routing/router.hpp"

#include <stdexcept>

namespace kvsim::scheduling::routing {

std::unique_ptr<Router> make_round_robin(const Params&);
std::unique_ptr<Router> make_least_loaded(const Params&);
std::unique_ptr<Router> make_random(const Params&);
std::unique_ptr<Router> make_power_of_two(const Params&);
std::unique_ptr<Router> make_session_affinity(const Params&);
std::unique_ptr<Router> make_prefix_affinity(const Params&);
std::unique_ptr<Router> make_min_ttft(const Params&);

namespace {
constexpr ParamSpec kStaleness{"staleness", 0, "s", "age of the instance loads the router sees: re-read at the first request at least this long after the last reading, plus what the router sent since (0 = live)"};
}  // namespace

const Registry<RouterEntry>& routers() {
  static const Registry<RouterEntry> entries{"router", {
      {"round_robin", "cycles through instances in index order, ignoring their load", {}, make_round_robin},
      {"least_loaded", "the instance with the fewest outstanding tokens (prompt tokens to compute plus output tokens to generate); ties go to the lowest index", {}, make_least_loaded},
      {"random", "an instance drawn uniformly at random (the router's own stream of the run's seed)", {}, make_random},
      {"power_of_two", "two distinct random instances, the one with fewer outstanding tokens wins (ties: the first drawn)", {kStaleness}, make_power_of_two},
      {"session_affinity", "a conversation stays on the instance of its first turn until that one has more than overload_tokens more outstanding tokens than the least loaded; it then moves to the least loaded and stays there; new sessions go to the least loaded (ties: lowest index)",
       {{"overload_tokens", 16384, "tokens", "move a session when its instance has more than this many more outstanding tokens than the least loaded"}, kStaleness},
       make_session_affinity},
      {"prefix_affinity", "the instance holding the longest prefix of the prompt (HBM, then its node's DRAM) among those within the load-imbalance bound (ties: lower load, then lower index); else the least loaded (ties: lowest index)",
       {{"imbalance_tokens", 16384, "tokens", "an instance stays a candidate while its outstanding tokens exceed the least loaded's by at most this..."},
        {"imbalance_ratio", 2.0, "", "...or are at most this many times the least loaded's"}, kStaleness},
       make_prefix_affinity},
      {"min_ttft", "the smallest estimated TTFT: queue + prefill of the tokens it lacks (after its cached part) + loading the rest from lower tiers or the remote pool over the current links (or recomputing it, as the engine would under kvcache.load_vs_recompute); ties go to the lowest index",
       {{"queue_tokens_per_s", 20000, "tokens/s", "rate at which an instance works off its outstanding tokens, for the queue estimate"}, kStaleness},
       make_min_ttft},
  }};
  return entries;
}

std::vector<std::string> router_names() { return routers().names(); }

std::unique_ptr<Router> make_router(const std::string& name, const ParamValues& overrides) {
  const RouterEntry& entry = routers().at(name, "scenario", "routing.policy");
  return entry.make(resolve_params(entry.params, overrides, "router \"" + name + "\"", "scenario", "routing.params"));
}

}  // namespace kvsim::scheduling::routing
