#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/ConditionVariable.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Mutex.hpp>
#include <xbt/log.h>

#include "models/scheduling/routing/router.hpp"
#include "sim/engine/platform.hpp"
#include "sim/engine/progress.hpp"

XBT_LOG_NEW_DEFAULT_CATEGORY(kvsim_engine, "kvsim serving engine loop");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

struct Instance {
  int index = 0;
  sg4::Host* host = nullptr;
  std::unique_ptr<scheduling::ServingEngine> engine;
  sg4::MutexPtr mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr wakeup = sg4::ConditionVariable::create();
};

// State shared by the actors of one run. Actors are cooperative (one runs at a time), so
// plain members need no locking.
struct Cluster {
  const config::Scenario* scenario = nullptr;
  std::vector<std::unique_ptr<Instance>> instances;
  std::vector<const scheduling::ServingEngine*> views;
  std::unique_ptr<scheduling::routing::Router> router;
  bool arrivals_done = false;

  std::vector<results::RequestRecord> records;
  std::unordered_map<std::uint64_t, std::size_t> slot_of;  // request id → records index
  std::uint64_t done = 0;
  std::uint64_t waits = 0;
  Progress* progress = nullptr;

  void finished(const scheduling::Sequence& seq, int instance) {
    auto& r = records[slot_of.at(seq.request.id)];
    r.instance = instance;
    r.first_token = seq.first_token;
    r.finish = seq.finish;
    r.ttft = seq.first_token - r.arrival;
    r.e2e = seq.finish - r.arrival;
    r.tpot = seq.request.output_tokens > 1 ? (seq.finish - seq.first_token) / double(seq.request.output_tokens - 1) : 0.0;
    r.cached_tokens = seq.cached_tokens;
    r.preemptions = seq.preemptions;
    r.status = results::RequestStatus::completed;
    ++done;
    progress->update(sg4::Engine::get_clock(), done);
  }
};

void injector(Cluster* cluster) {
  const double limit = cluster->scenario->time_limit;
  auto& source = *cluster->scenario->workload;
  while (auto request = source.next()) {
    if (request->arrival > limit) break;
    if (request->arrival > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(request->arrival);
    const double now = sg4::Engine::get_clock();

    results::RequestRecord record;
    record.id = request->id;
    record.session = request->session;
    record.parent = request->parent;
    record.turn = request->turn;
    record.arrival = request->arrival;
    record.input_tokens = request->input_tokens;
    record.output_tokens = request->output_tokens;
    if (!cluster->slot_of.emplace(request->id, cluster->records.size()).second)
      throw std::runtime_error("workload produced request id " + std::to_string(request->id) + " twice");

    const std::size_t target = cluster->router->route(*request, cluster->views, now);
    Instance& instance = *cluster->instances[target];
    record.instance = instance.index;
    const bool fits = instance.engine->can_ever_fit(*request);
    if (!fits) record.status = results::RequestStatus::rejected;
    cluster->records.push_back(record);
    if (!fits) {
      XBT_INFO("request %llu rejected: %u+%u tokens exceed instance %d's KV capacity", (unsigned long long)request->id,
               request->input_tokens, request->output_tokens, instance.index);
      ++cluster->done;
      continue;
    }
    instance.engine->enqueue(std::move(*request));
    instance.wakeup->notify_one();
    cluster->progress->update(now, cluster->done);
  }
  cluster->arrivals_done = true;
  for (auto& instance : cluster->instances) instance->wakeup->notify_all();
}

void serve(Cluster* cluster, Instance* instance) {
  const double limit = cluster->scenario->time_limit;
  auto& engine = *instance->engine;
  std::unique_lock lock(*instance->mutex);
  const auto on_finish = [&](const scheduling::Sequence& seq) { cluster->finished(seq, instance->index); };
  while (sg4::Engine::get_clock() < limit) {
    if (engine.idle()) {
      if (cluster->arrivals_done) break;
      if (std::isinf(limit))
        instance->wakeup->wait(lock);
      else
        instance->wakeup->wait_until(lock, limit);
      ++cluster->waits;
      continue;
    }
    if (!engine.plan(sg4::Engine::get_clock(), limit))
      throw std::logic_error("instance " + std::to_string(instance->index) + " has queued work but cannot plan a step");
    // Wait for the end of the plan; an arrival cuts it at the next step boundary.
    double target = engine.step_end(engine.planned_steps() - 1);
    while (true) {
      instance->wakeup->wait_until(lock, std::min(target, limit));
      ++cluster->waits;
      const double now = sg4::Engine::get_clock();
      if (now >= target || now >= limit) break;
      const std::size_t done = engine.steps_done_by(now);
      target = (done > 0 && engine.step_end(done - 1) == now) ? now : engine.step_end(done);
      if (target == now) break;
    }
    if (sg4::Engine::get_clock() > limit || (sg4::Engine::get_clock() == limit && target > limit)) break;
    // Let arrivals at this very instant reach the queue before the next plan.
    sg4::this_actor::yield();
    engine.apply(engine.steps_done_by(sg4::Engine::get_clock()), on_finish);
  }
}

std::vector<std::string> engine_arguments(bool verbose) {
  std::vector<std::string> args{"kvsim",
                                // LV08's correction factors are calibrated for TCP over
                                // Ethernet; NVLink/PCIe/RDMA transfers follow the textbook
                                // latency + size/bandwidth model.
                                "--cfg=network/model:CM02", "--cfg=network/crosstraffic:0"};
  if (!verbose) {
    args.insert(args.begin() + 1, "--log=root.thresh:warning");
    args.insert(args.begin() + 2, "--log=xbt_cfg.thresh:warning");
  } else {
    args.insert(args.begin() + 1, "--log=kvsim_engine.thresh:info");
  }
  return args;
}

}  // namespace

RunOutput simulate(config::Scenario& scenario, const RunOptions& options) {
  auto args = engine_arguments(options.verbose);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = int(args.size());
  sg4::Engine simgrid(&argc, argv.data());

  const Platform platform = build_platform(scenario);
  auto perf = compute::make_roofline(scenario.model, scenario.gpu, scenario.tp, scenario.compute);
  Progress progress(options.progress, scenario.workload->expected_count());

  Cluster cluster;
  cluster.scenario = &scenario;
  cluster.router = scheduling::routing::make_router(scenario.router);
  cluster.progress = &progress;
  const int per_node = scenario.node.gpus / scenario.tp;
  for (int i = 0; i < scenario.instances; ++i) {
    auto instance = std::make_unique<Instance>();
    instance->index = i;
    instance->host = platform.gpus[i / per_node][(i % per_node) * scenario.tp];
    instance->engine = std::make_unique<scheduling::ServingEngine>(scenario.engine, *perf);
    cluster.views.push_back(instance->engine.get());
    cluster.instances.push_back(std::move(instance));
  }
  sg4::Actor::create("injector", platform.cpus[0], injector, &cluster);
  for (auto& instance : cluster.instances)
    sg4::Actor::create("instance-" + std::to_string(instance->index), instance->host, serve, &cluster, instance.get());

  simgrid.run();
  progress.clear();

  RunOutput output;
  output.sim_duration = sg4::Engine::get_clock();
  output.waits = cluster.waits;
  for (auto& instance : cluster.instances) {
    output.steps += instance->engine->steps();
    instance->engine->for_each_unfinished([&](const scheduling::Sequence& seq) {
      auto& r = cluster.records[cluster.slot_of.at(seq.request.id)];
      r.preemptions = seq.preemptions;
      r.cached_tokens = seq.cached_tokens;
      if (seq.first_token >= 0) {
        r.first_token = seq.first_token;
        r.ttft = seq.first_token - r.arrival;
      }
    });
  }
  output.requests = std::move(cluster.records);
  std::sort(output.requests.begin(), output.requests.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return output;
}

}  // namespace kvsim::engine
