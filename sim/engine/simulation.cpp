#include "sim/engine/simulation.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>

#include <simgrid/Exception.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

#include "sim/engine/cluster_sampler.hpp"
#include "sim/engine/injector.hpp"
#include "sim/engine/instance_driver.hpp"
#include "sim/engine/kv_handoff.hpp"
#include "sim/engine/kv_tiers.hpp"
#include "sim/engine/platform.hpp"
#include "sim/engine/router_view.hpp"
#include "sim/engine/run_state.hpp"
#include "sim/util/interrupt.hpp"

XBT_LOG_NEW_CATEGORY(kvsim, "kvsim");
XBT_LOG_NEW_SUBCATEGORY(kvsim_engine, kvsim, "kvsim simulation engine");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_simulation, kvsim_engine, "run assembly and end-of-run accounting");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

Instance::Instance() = default;
Instance::~Instance() = default;
RunState::RunState(const config::Scenario& s, Recorder::Sink sink)
    : scenario(s), recorder(s.engine.block_size, std::move(sink), {s.warmup, s.cooldown}),
      energy(std::size_t(s.instances), s.gpu.idle_watts, s.gpu.tdp, std::uint32_t(s.tp), s.kv.sample_interval) {}
RunState::~RunState() = default;

void guarded(RunState& run, const std::function<void()>& body) {
  try {
    body();
  } catch (const simgrid::ForcefulKillException&) {
    throw;  // SimGrid's own way of ending an actor
  } catch (...) {
    if (!run.failure) run.failure = std::current_exception();
    sg4::Actor::kill_all();
  }
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::atomic<bool> simulation_ran{false};

std::vector<std::string> engine_arguments(bool verbose) {
  std::vector<std::string> args{"kvsim"};
  for (auto& setting : network_model_arguments()) args.push_back(std::move(setting));  // platform.hpp
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer cannot follow the stack switching of SimGrid's default contexts (it
  // warns and may report false errors); thread contexts keep the sanitized suite exact.
  args.emplace_back("--cfg=contexts/factory:thread");
#endif
  if (!verbose) {
    args.insert(args.begin() + 1, "--log=root.thresh:warning");
    args.insert(args.begin() + 2, "--log=xbt_cfg.thresh:warning");
  } else {
    args.insert(args.begin() + 1, "--log=kvsim.thresh:info");
  }
  // KVSIM_LOG="kvsim_instance.thresh:debug kvsim_injector.thresh:debug" raises chosen
  // categories (kvsim list log categories: kvsim_engine and its children).
  if (const char* extra = std::getenv("KVSIM_LOG")) {
    std::istringstream settings(extra);
    for (std::string setting; settings >> setting;) args.push_back("--log=" + setting);
  }
  return args;
}

template <std::size_t N>
void copy_name(char (&to)[N], const std::string& from) {
  std::memset(to, 0, N);
  std::memcpy(to, from.data(), std::min(N - 1, from.size()));
}

// Samples tier occupancy every sample_interval, recording a row only when a tier's
// occupancy changed since its last row (so an idle stretch costs nothing), and skipping
// ahead over stretches where nothing runs and nothing arrives.
void sample_occupancy(RunState& run) {
  const double interval = run.scenario.kv.sample_interval;
  std::vector<std::uint64_t> last;
  std::vector<bool> seen;
  ClusterSampler cluster;  // instance and link series at the same instants
  for (double k = 0;; ++k) {
    double t = k * interval;
    if (t > run.scenario.time_limit) return;
    if (t > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(t);
    std::uint32_t row = 0;
    const auto record = [&](std::uint64_t occupancy) {
      if (row >= last.size()) {
        last.push_back(0);
        seen.push_back(false);
      }
      if (!seen[row] || last[row] != occupancy) run.samples.push_back({t, row, occupancy});
      seen[row] = true;
      last[row] = occupancy;
      ++row;
    };
    bool busy = false;
    for (const auto& instance : run.instances) {
      record(instance->engine->occupied_blocks_at(t));
      busy = busy || !instance->engine->idle() || !run.transfers->idle(std::size_t(instance->index));
    }
    if (run.lower_tiers)
      for (const auto& store : run.lower_tiers->stores()) record(store.store->occupancy());
    cluster.sample(run, t);
    if (!busy) {
      // Nothing changes before the next arrival: resume at the first tick at or after it.
      const double next = run.injector->next_arrival();
      if (std::isinf(next)) return;
      k = std::max(k, std::ceil(next / interval) - 1);
    }
  }
}

// Step-time model of a group, shared by the groups with the same model, GPU, tp and
// calibration (the [compute] knobs are the scenario's, the same for every group).
const compute::PerfModel* group_perf_model(RunState& run, std::map<std::string, const compute::PerfModel*>& made,
                                           const config::InstanceGroupSpec& group) {
  const std::string key = group.model.name + '\n' + group.gpu.name + '\n' + std::to_string(group.tp) + '\n' +
                          group.compute.model + '\n' + group.compute.calibration;
  auto [it, fresh] = made.try_emplace(key, nullptr);
  if (fresh) {
    run.group_perf.push_back(compute::make_step_time_model(group.model, group.gpu, group.tp, group.compute));
    it->second = run.group_perf.back().get();
  }
  return it->second;
}

void build_instances(RunState& run) {
  const auto& s = run.scenario;
  std::map<std::string, const compute::PerfModel*> perf_models;
  for (int i = 0; i < s.instances; ++i) {
    auto instance = std::make_unique<Instance>();
    instance->index = i;
    const auto& place = s.placement[std::size_t(i)];  // filled node by node (sim/config/cluster_card.hpp)
    instance->node = place.node;
    // [[instances]] groups bring their own tp, engine knobs, model and GPU card.
    const int group = s.groups.empty() ? -1 : s.instance_group[std::size_t(i)];
    const int tp = group < 0 ? s.tp : s.groups[std::size_t(group)].tp;
    for (int g = 0; g < tp; ++g)
      instance->gpus.push_back(run.platform.gpus[std::size_t(place.node)][std::size_t(place.first_gpu + g)]);
    if (group < 0) {
      instance->gpu = &s.gpu;
      instance->model = &s.model;
      instance->perf = run.perf.get();
      instance->engine = std::make_unique<scheduling::ServingEngine>(s.engine, *run.perf);
    } else {
      const auto& spec = s.groups[std::size_t(group)];
      instance->gpu = &spec.gpu;
      instance->model = &spec.model;
      instance->perf = group_perf_model(run, perf_models, spec);
      instance->engine = std::make_unique<scheduling::ServingEngine>(spec.engine, *instance->perf);
      run.energy.set_instance_power(std::size_t(i), spec.gpu.idle_watts, spec.gpu.tdp, std::uint32_t(tp));
    }
    instance->block_bytes = double(s.engine.block_size) * instance->model->kv_bytes_per_token();
    run.views.push_back(instance->engine.get());
    run.instances.push_back(std::move(instance));
  }
  if (s.kv.lower.empty()) return;
  run.lower_tiers = std::make_unique<LowerTiers>(run);
  for (auto& instance : run.instances) {
    instance->tiers = std::make_unique<KvTiers>(run, *instance);
    instance->engine->set_backend(instance->tiers.get());
  }
}

// /tiers: HBM of every instance, then the lower tier stores.
std::vector<results::TierRecord> tier_records(const RunState& run) {
  std::vector<results::TierRecord> rows;
  for (const auto& instance : run.instances) {
    const auto& engine = *instance->engine;
    results::TierRecord hbm;
    copy_name(hbm.tier, "hbm");
    hbm.location = instance->index;
    hbm.capacity_blocks = engine.blocks().capacity();
    hbm.lookup_blocks = engine.lookup_blocks();
    hbm.hit_blocks = engine.blocks().counters().hit_blocks;
    hbm.written_blocks = engine.blocks().counters().allocated;
    hbm.written_bytes = double(hbm.written_blocks) * instance->block_bytes;
    hbm.evicted_blocks = engine.blocks().counters().evicted;
    hbm.occupancy_blocks = engine.blocks().occupied();
    rows.push_back(hbm);
  }
  if (!run.lower_tiers) return rows;
  for (const auto& s : run.lower_tiers->stores()) {
    const auto& c = s.store->counters();
    results::TierRecord row;
    copy_name(row.tier, kTierNames[int(s.kind)]);
    row.location = s.location;
    row.capacity_blocks = s.store->capacity();
    row.lookup_blocks = c.lookup_blocks;
    row.hit_blocks = c.hit_blocks;
    row.loaded_blocks = c.loaded_blocks;
    row.loaded_bytes = c.loaded_bytes;
    row.written_blocks = c.inserted_blocks;
    row.written_bytes = c.written_bytes;
    row.evicted_blocks = c.evicted_blocks;
    row.occupancy_blocks = s.store->occupancy();
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

Simulation::Simulation(config::Scenario scenario, RunOptions options)
    : scenario_(std::move(scenario)), options_(std::move(options)) {}

RunOutput Simulation::run() {
  if (simulation_ran.exchange(true))
    throw std::logic_error(
        "a simulation already ran in this process: SimGrid's clock cannot be reset, so run each simulation in its "
        "own process");
  if (!scenario_.workload) throw std::logic_error("the scenario has no workload");

  auto args = engine_arguments(options_.verbose);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = int(args.size());
  sg4::Engine simgrid(&argc, argv.data());
  install_interrupt_handlers();  // replaces the SIGINT handler SimGrid just installed

  RunState run(scenario_, options_.request_sink);
  run.platform = build_platform(scenario_);
  run.perf = compute::make_step_time_model(scenario_.model, scenario_.gpu, scenario_.tp, scenario_.compute);
  run.router = scheduling::routing::make_router(scenario_.router, scenario_.router_params);
  run.block_bytes = double(scenario_.engine.block_size) * scenario_.model.kv_bytes_per_token();
  run.transfers = std::make_unique<TransferService>(run.platform, std::size_t(scenario_.instances));
  build_instances(run);
  EngineRouterView router_view(run);  // what cache-aware routers may ask (outlives the run)
  run.handoff = KvHandoff::make(run, router_view);  // P/D: arrivals go to prefill and mixed instances
  run.router->attach(run.handoff ? run.handoff->entry_view() : router_view);
  run.injector = std::make_unique<Injector>(run, scenario_.workload.open());
  run.recorder.set_type_names(&run.injector->source().categories());
  Progress progress(options_.progress, run.injector->expected_count(),
                    [&run](double now) { return run.injector->source().progress(now); }, scenario_.time_limit);
  run.progress = &progress;
  std::unique_ptr<StepTrace> step_trace;
  if (!options_.trace_steps.empty()) {
    step_trace = std::make_unique<StepTrace>(options_.trace_steps);
    run.step_trace = step_trace.get();
  }

  sg4::Actor::create("injector", run.platform.cpus[0], [&run] { guarded(run, [&run] { run.injector->run(); }); });
  for (auto& instance : run.instances) {
    Instance* i = instance.get();
    sg4::Actor::create("instance-" + std::to_string(i->index), i->gpus[0],
                       [&run, i] { guarded(run, [&run, i] { drive_instance(run, *i); }); });
  }
  sg4::Actor::create("sampler", run.platform.cpus[0], [&run] { guarded(run, [&run] { sample_occupancy(run); }); })
      ->daemonize();

  simgrid.run();
  progress.clear();
  if (run.failure) std::rethrow_exception(run.failure);
  if (step_trace) step_trace->close();

  RunOutput output;
  output.sim_duration = sg4::Engine::get_clock();
  output.waits = run.waits;
  for (auto& instance : run.instances) {
    output.steps += instance->engine->steps();
    instance->engine->for_each_unfinished([&](const scheduling::Sequence& seq) { run.recorder.unfinished(seq); });
  }
  output.tiers = tier_records(run);
  output.links = run.transfers->link_records();
  output.tier_samples = std::move(run.samples);
  output.energy = run.energy.finish(output.sim_duration);
  output.energy_samples = run.energy.take_samples();
  output.instance_samples = std::move(run.instance_samples);
  output.link_samples = std::move(run.link_samples);
  output.requests = run.recorder.take_sorted();
  output.workload_report = run.injector->source().report();
  output.rejections = run.recorder.rejection_causes();
  return output;
}

RunOutput simulate(const config::Scenario& scenario, const RunOptions& options) {
  return Simulation(scenario, options).run();
}

}  // namespace kvsim::engine
