// What the actors of one run share. Actors are cooperative (one runs at a time), so plain
// members need no locking.
//
// Time: step ends and arrivals are exact (computed by kvsim); SimGrid's clock reaches a
// deadline only to within rounding (it converts absolute deadlines into durations and
// back). So the actors keep their own exact notion of "now" and use SimGrid only to wait
// and to order events; ties between an arrival and a step end are resolved on the exact
// values, never on the clock. Transfers are SimGrid Comms (TransferService) and their
// completion times are SimGrid's.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <unordered_map>
#include <vector>

#include <simgrid/s4u/Host.hpp>

#include "models/compute/perf_model.hpp"
#include "models/scheduling/routing/router.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "sim/config/scenario.hpp"
#include "sim/engine/platform.hpp"
#include "sim/engine/progress.hpp"
#include "sim/engine/recorder.hpp"
#include "sim/engine/step_trace.hpp"
#include "sim/engine/transfer_service.hpp"
#include "sim/engine/waiter.hpp"
#include "sim/results/energy.hpp"

namespace kvsim::engine {

class KvTiers;
class LowerTiers;
class Injector;
class KvHandoff;

// One serving instance: its engine (pure model code) and what its driver actor needs.
struct Instance {
  Instance();
  ~Instance();  // out of line: KvTiers is incomplete here
  int index = 0;
  int node = 0;
  std::vector<simgrid::s4u::Host*> gpus;  // the tp GPUs; the driver runs on gpus[0]
  // What it serves on (its [[instances]] group's, else the scenario's): GPU card, model,
  // step-time model, KV bytes of one block (all tp shards).
  const compute::GpuCard* gpu = nullptr;
  const compute::ModelCard* model = nullptr;
  const compute::PerfModel* perf = nullptr;
  double block_bytes = 0;
  std::unique_ptr<scheduling::ServingEngine> engine;
  std::unique_ptr<KvTiers> tiers;                    // null without lower tiers
  std::unordered_map<std::uint64_t, int> load_parts;  // request → transfers of its load still in flight
  Waiter waiter;
  // Wakes the driver: an arrival or hand-off at exact time at, or at < 0 for "nothing to
  // cut" (the workload or the prefill side has ended). Several wake-ups can land at one
  // instant before the driver runs (a prefill instance hands off its last request and then
  // its driver ends): the earliest real time is kept, so a later "nothing to cut" never
  // hides a hand-off that must cut a multi-step plan.
  void interrupt(double at) {
    if (!wake_pending_ || (at >= 0 && (wake_time_ < 0 || at < wake_time_))) wake_time_ = at;
    wake_pending_ = true;
    waiter.interrupt();
  }
  // Called by the driver before each wait: wake-ups that landed while it was not waiting
  // were dropped by the waiter (the driver looks at its queue at every step boundary).
  void forget_wake() { wake_pending_ = false; }
  // Whether a wake-up landed since the driver last began to wait.
  bool wake_pending() const { return wake_pending_; }
  // The wake-up time once the waiter reported an interrupt.
  double take_wake_time() {
    wake_pending_ = false;
    return wake_time_;
  }

 private:
  double wake_time_ = -1;
  bool wake_pending_ = false;
};

struct RunState {
  RunState(const config::Scenario& s, Recorder::Sink sink);
  ~RunState();  // out of line: Injector, KvHandoff and LowerTiers are incomplete here

  const config::Scenario& scenario;
  Platform platform;
  std::unique_ptr<compute::PerfModel> perf;
  // Step-time models of the [[instances]] groups: one per distinct (model, GPU, tp,
  // calibration) among them (simulation.cpp, build_instances).
  std::vector<std::unique_ptr<compute::PerfModel>> group_perf;
  std::unique_ptr<TransferService> transfers;
  std::unique_ptr<LowerTiers> lower_tiers;  // null without lower tiers
  std::vector<std::unique_ptr<Instance>> instances;
  std::vector<const scheduling::ServingEngine*> views;  // what the router sees (with P/D: prefill and mixed)
  std::unique_ptr<scheduling::routing::Router> router;
  std::unique_ptr<Injector> injector;
  std::unique_ptr<KvHandoff> handoff;  // prefill/decode disaggregation; null without it
  Recorder recorder;
  results::EnergyMeter energy;  // Σ step time and utilisation per instance (energy_account.hpp)
  Progress* progress = nullptr;
  StepTrace* step_trace = nullptr;  // --trace-steps, else null
  double block_bytes = 0;           // KV bytes of one block, all tp shards together (lower
                                    // tiers: a run with them serves one model)
  std::uint64_t waits = 0;          // SimGrid waits of instance drivers (events)
  // Occupancy samples: (time, tier row, blocks); rows are the instances' HBM, then the
  // lower tier stores.
  std::vector<results::TierSample> samples;
  std::vector<results::InstanceSample> instance_samples;  // sim/engine/cluster_sampler.hpp
  std::vector<results::LinkSample> link_samples;
  // The first error raised inside an actor (e.g. a malformed trace line met while
  // streaming); the run stops and Simulation::run rethrows it.
  std::exception_ptr failure;
};

// Runs an actor's body; an exception (bad input met mid-run, an internal error) is kept in
// run.failure and every actor is stopped, instead of aborting the process.
void guarded(RunState& run, const std::function<void()>& body);

}  // namespace kvsim::engine
