#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
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
  double wake_time = -1;  // exact time of the arrival that last notified wakeup
};

// State shared by the actors of one run. Actors are cooperative (one runs at a time), so
// plain members need no locking.
//
// Time: the engine's step ends and the requests' arrivals are exact (computed by kvsim);
// SimGrid's clock reaches a deadline only to within rounding (it converts absolute
// deadlines into durations and back). So the actors keep their own exact notion of "now"
// and use SimGrid only to wait and to order events; ties between an arrival and a step end
// are resolved on the exact values, never on the clock.
struct Cluster {
  const config::Scenario* scenario = nullptr;
  std::vector<std::unique_ptr<Instance>> instances;
  std::vector<const scheduling::ServingEngine*> views;
  std::unique_ptr<scheduling::routing::Router> router;

  // Arrival time of the next request the injector will release (+inf when none is left).
  double next_arrival = 0;
  // Signalled after every release, for instances waiting at a step boundary for an arrival
  // due at that same instant.
  sg4::MutexPtr release_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr released = sg4::ConditionVariable::create();

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
    progress->update(seq.finish, done);
  }

  // Blocks until every request arriving at or before t has been released, so that a
  // request arriving exactly at a step boundary is seen by that boundary's scheduling.
  void await_releases_until(double t) {
    if (next_arrival > t) return;
    std::unique_lock lock(*release_mutex);
    while (next_arrival <= t) released->wait(lock);
  }
};

void injector(Cluster* cluster) {
  const double limit = cluster->scenario->time_limit;
  auto& source = *cluster->scenario->workload;
  double last_arrival = 0;
  while (auto request = source.next()) {
    const double now = request->arrival;
    if (now > limit) break;
    if (now < last_arrival)
      throw std::runtime_error("workload produced request " + std::to_string(request->id) +
                               " out of arrival order (" + std::to_string(now) + " s after " +
                               std::to_string(last_arrival) + " s)");
    last_arrival = now;
    cluster->next_arrival = now;
    if (now > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(now);

    results::RequestRecord record;
    record.id = request->id;
    record.session = request->session;
    record.parent = request->parent;
    record.turn = request->turn;
    record.arrival = now;
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
    if (fits) {
      instance.engine->enqueue(std::move(*request));
      instance.wake_time = now;
      instance.wakeup->notify_one();
    } else {
      XBT_INFO("request %llu rejected: %u+%u tokens can never fit instance %d", (unsigned long long)record.id,
               record.input_tokens, record.output_tokens, instance.index);
      ++cluster->done;
    }
    cluster->progress->update(now, cluster->done);
    cluster->next_arrival = std::numeric_limits<double>::infinity();  // until the next one is read
    cluster->released->notify_all();
  }
  cluster->next_arrival = std::numeric_limits<double>::infinity();
  cluster->released->notify_all();
  for (auto& instance : cluster->instances) {
    instance->wake_time = -1;
    instance->wakeup->notify_all();
  }
}

void serve(Cluster* cluster, Instance* instance) {
  const double limit = cluster->scenario->time_limit;
  auto& engine = *instance->engine;
  std::unique_lock lock(*instance->mutex);
  const auto on_finish = [&](const scheduling::Sequence& seq) { cluster->finished(seq, instance->index); };
  const auto wait_until = [&](double deadline) {
    ++cluster->waits;
    if (std::isinf(deadline)) {
      instance->wakeup->wait(lock);
      return std::cv_status::no_timeout;
    }
    return instance->wakeup->wait_until(lock, deadline);
  };

  double now = 0;  // exact time of this instance
  while (now <= limit) {
    if (engine.idle()) {
      if (std::isinf(cluster->next_arrival)) break;  // nothing queued, nothing to come
      if (wait_until(limit) == std::cv_status::timeout) break;
      if (instance->wake_time >= now) now = instance->wake_time;
      continue;
    }
    cluster->await_releases_until(now);
    if (!engine.plan(now, limit))
      throw std::logic_error("instance " + std::to_string(instance->index) + " has queued work but cannot plan a step");
    // Wait for the end of the plan; an arrival cuts it at the next step boundary.
    std::size_t last = engine.planned_steps() - 1;
    while (true) {
      const double target = engine.step_end(last);
      if (target > limit) {  // the run ends before this step does
        while (wait_until(limit) != std::cv_status::timeout) {
        }
        return;
      }
      if (wait_until(target) == std::cv_status::timeout) break;
      const double t = instance->wake_time;
      const std::size_t done = engine.steps_done_by(t);
      if (t < now || done > last) continue;  // a wake-up that cuts nothing
      if (done > 0 && engine.step_end(done - 1) == t) {
        last = done - 1;  // the arrival is exactly at a boundary: stop there
        break;
      }
      last = done;  // stop at the end of the step in progress
    }
    now = engine.step_end(last);
    engine.apply(last + 1, on_finish);
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
