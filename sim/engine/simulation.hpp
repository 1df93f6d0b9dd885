// One simulation run: SimGrid engine, platform, instances, router and injector.
//
// Actors: one Injector (releases requests at their arrival times and routes them) and one
// actor per serving instance running the engine loop (plan → wait → apply). An instance
// waits on a condition variable with a deadline at the end of its planned step(s); an
// arrival wakes it early, and the plan is cut at the next step boundary.
//
// Time is kept exactly by kvsim (step ends are sums of step times, arrivals come from the
// workload); SimGrid orders the events and provides the waiting. Tie-break for simultaneous
// events: a request that arrives at exactly the end of a step is seen by the scheduling done
// at that boundary (an instance at a boundary first waits for every arrival due by then).
// Instances are otherwise independent; routing at an arrival sees each instance's state as
// of that instant, counting planned steps that have ended by then.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/scenario.hpp"
#include "sim/results/records.hpp"

namespace kvsim::engine {

struct RunOptions {
  bool progress = false;  // progress line on stderr
  bool verbose = false;   // SimGrid/kvsim logs at info level
};

struct RunOutput {
  std::vector<results::RequestRecord> requests;  // sorted by request id
  std::vector<results::TierRecord> tiers;        // HBM per instance, then the lower tier stores
  std::vector<results::LinkRecord> links;        // links and disks that carried KV transfers
  std::vector<results::TierSample> tier_samples; // occupancy over time, rows index tiers
  double sim_duration = 0;                       // s
  std::uint64_t steps = 0;                       // engine steps over all instances
  std::uint64_t waits = 0;                       // SimGrid waits of instance actors (events)
};

RunOutput simulate(config::Scenario& scenario, const RunOptions& options);

}  // namespace kvsim::engine
