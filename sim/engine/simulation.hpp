// One simulation run: builds the SimGrid platform, the instances, the router, the KV tiers
// and the actors from a scenario, runs them, and returns what the results file needs.
//
// Actors: one injector (releases requests at their arrival times and routes them,
// sim/engine/injector.hpp), one driver per serving instance (plan → wait → apply,
// sim/engine/instance_driver.hpp), and a sampler of tier occupancy. Every KV transfer is a
// SimGrid Comm created by the TransferService.
//
// Time is kept exactly by kvsim (step ends are sums of step times, arrivals come from the
// workload); SimGrid orders the events and provides the waiting. Tie-break for simultaneous
// events: a request that arrives at exactly the end of a step is seen by the scheduling done
// at that boundary (an instance at a boundary first waits for every arrival due by then).
// Instances are otherwise independent; routing at an arrival sees each instance's state as
// of that instant, counting planned steps that have ended by then.
//
// SimGrid's clock cannot be reset inside a process, so a process runs at most one
// simulation: a second Simulation::run() throws std::logic_error saying so (sweeps run each
// point in its own process).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/config/scenario.hpp"
#include "sim/results/records.hpp"

namespace kvsim::engine {

struct RunOptions {
  bool progress = false;    // progress line on stderr
  bool verbose = false;     // kvsim's log categories at info level
  std::string trace_steps;  // per-step CSV trace file ("" = none)
  // Receives /requests rows in release order, in chunks, as they become final (and the
  // rest at the end); RunOutput::requests then stays empty. Without it every row is kept
  // and returned sorted by id.
  std::function<void(std::span<const results::RequestRecord>)> request_sink;
};

struct RunOutput {
  std::vector<results::RequestRecord> requests;  // sorted by request id (empty with a request_sink)
  std::vector<results::TierRecord> tiers;        // HBM per instance, then the lower tier stores
  std::vector<results::LinkRecord> links;        // links that carried KV transfers
  std::vector<results::TierSample> tier_samples; // occupancy when it changed, rows index tiers
  std::vector<results::EnergyRecord> energy;     // one per instance
  std::vector<results::EnergySample> energy_samples;  // cumulative energy per instance over time
  std::vector<results::InstanceSample> instance_samples;  // instance state when it changed
  std::vector<results::LinkSample> link_samples;          // link utilisation while in use
  double sim_duration = 0;                       // s
  std::uint64_t steps = 0;                       // engine steps over all instances
  std::uint64_t waits = 0;                       // SimGrid waits of instance actors (events)
  // What the workload source dropped or repaired, as (name, count) pairs.
  std::vector<std::pair<std::string, std::uint64_t>> workload_report;
  // Rejected requests by cause (Recorder::rejection_causes).
  std::vector<results::RejectionCause> rejections;
};

class Simulation {
 public:
  Simulation(config::Scenario scenario, RunOptions options);
  // Runs the scenario to its end. Throws InputError for bad input met while running (a
  // malformed streamed trace line), std::logic_error if a simulation already ran in this
  // process.
  RunOutput run();

  const config::Scenario& scenario() const { return scenario_; }

 private:
  config::Scenario scenario_;
  RunOptions options_;
};

// Simulation(scenario, options).run().
RunOutput simulate(const config::Scenario& scenario, const RunOptions& options);

}  // namespace kvsim::engine
