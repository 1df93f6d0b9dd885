// The eviction policy registry: a policy is one file in this folder plus one line here.
#include <algorithm>
#include <cmath>

#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/eviction/wa_profile.hpp"
#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"

namespace kvsim::kvcache::eviction {

using Factory = std::unique_ptr<Policy>(const CacheState&, const PolicyParams&);
Factory make_lru, make_fifo, make_lfu, make_sieve, make_s3fifo, make_arc, make_gdsf, make_wa, make_wa_online,
    make_opt;

namespace {

const ParamSpec kLookahead{"lookahead", 5.0, "s", "window D of the reuse probability compared at eviction"};
// Off by default: the reference implementation has no such rule (its first list holds
// never-allocated blocks, which a cache has no counterpart of); kept as an experiment.
const ParamSpec kOnceFirst{"once_first", 0.0, "", "1: blocks accessed once are evicted before reused ones; 0: by category"};

}  // namespace

const Registry<PolicyInfo>& policies() {
  static const Registry<PolicyInfo> registry{"eviction policy", {
      {"lru", "least recently used", {}, false, false, make_lru},
      {"fifo", "first in, first out (hits do not reorder)", {}, false, false, make_fifo},
      {"lfu", "least frequently used with dynamic aging (LFU-DA)", {}, false, false, make_lfu},
      {"sieve", "SIEVE (NSDI'24): FIFO with a visited bit and a moving hand", {}, false, false, make_sieve},
      {"s3fifo", "S3-FIFO (SOSP'23): small, main and ghost FIFO queues",
       {{"small_fraction", 0.1, "", "share of the candidates held by the small queue"}}, false, false, make_s3fifo},
      {"arc", "ARC (FAST'03): adaptive recency/frequency lists with ghosts", {}, false, false, make_arc},
      {"gdsf", "Greedy-Dual-Size-Frequency, cost = recompute cost (position + 1)", {}, false, false, make_gdsf},
      {"wa", "workload-aware (Bailian, ATC'25): per-category reuse model from a profile", {kLookahead, kOnceFirst}, false, true,
       make_wa},
      {"wa-online", "workload-aware with the reuse model learned during the run",
       {kLookahead, kOnceFirst,
        {"half_life", 600.0, "s", "age at which an observation weighs half"},
        {"min_samples", 10.0, "", "weighted reuse samples before a category's model is used"}},
       false, false, make_wa_online},
      {"opt", "Belady's optimal (needs the future: trace replay only)", {}, true, false, make_opt},
  }};
  return registry;
}

std::vector<std::string> policy_names() { return policies().names(); }

const PolicyInfo& find_policy(std::string_view name) { return policies().at(name, "eviction policy", "policy"); }

PolicyParams resolve_params(const PolicyInfo& info, const std::map<std::string, double, std::less<>>& overrides,
                            std::shared_ptr<const WaProfile> profile) {
  PolicyParams params;
  static_cast<kvsim::Params&>(params) = kvsim::resolve_params(
      info.params, overrides, "eviction policy \"" + std::string(info.name) + "\"", "eviction policy", std::string(info.name));
  params.profile = std::move(profile);
  return params;
}

std::unique_ptr<Policy> make_policy(std::string_view name, const CacheState& state, const PolicyParams& params) {
  const PolicyInfo& info = find_policy(name);
  if (info.needs_profile && !params.profile)
    throw InputError("eviction policy", 0, std::string(name),
                     "policy " + std::string(name) +
                         " needs a reuse profile (kvsim trace profile TRACE --until T -o wa.toml, then --wa-profile wa.toml)");
  return info.make(state, params);
}

}  // namespace kvsim::kvcache::eviction
