#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include <simgrid/Exception.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <xbt/log.h>

#include "sim/engine/cluster.hpp"
#include "sim/engine/kv_tiers.hpp"

XBT_LOG_NEW_DEFAULT_CATEGORY(kvsim_engine, "kvsim serving engine loop");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Longest single wait; a wait for "no deadline" is renewed after it.
constexpr double kLongestWait = 1e9;

enum class Woken { deadline, interrupt, transfer };


void transfer_done(Cluster& cluster, Instance& instance, std::size_t index) {
  const double now = sg4::Engine::get_clock();
  Transfer transfer = std::move(instance.transfers[index]);
  instance.transfers.erase(instance.transfers.begin() + long(index));
  cluster.transfer_ended(transfer, now);
  if (!transfer.then_copy.empty()) {
    // A disk read done: the data now crosses PCIe to each GPU.
    const double shard = transfer.bytes / double(transfer.then_copy.size());
    for (auto [from, to] : transfer.then_copy) {
      Transfer copy;
      copy.request = transfer.request;
      copy.bytes = shard;
      from->route_to(to, copy.route, nullptr);
      copy.activity = sg4::Comm::sendto_async(from, to, std::uint64_t(std::llround(shard)));
      cluster.transfer_started(copy, now);
      instance.transfers.push_back(std::move(copy));
    }
    return;
  }
  if (transfer.request == Transfer::kNoRequest) return;
  auto parts = instance.load_parts.find(transfer.request);
  if (--parts->second > 0) return;
  instance.load_parts.erase(parts);
  instance.tiers->load_finished(transfer.request);
  instance.engine->load_done(transfer.request, now);
}

// Waits for the instance's next event; returns what woke it and sets `at` to its time.
Woken wait_event(Cluster& cluster, Instance& instance, double deadline, double& at) {
  ++cluster.waits;
  std::vector<sg4::ActivityPtr> activities;
  activities.reserve(instance.transfers.size() + 1);
  for (const auto& t : instance.transfers) activities.push_back(t.activity);
  const ssize_t index = instance.waiter.wait(deadline, std::move(activities));
  if (index == Waiter::kDeadline) {
    at = deadline;
    return Woken::deadline;
  }
  if (index == Waiter::kInterrupted) {
    at = instance.wake_time;
    return Woken::interrupt;
  }
  at = sg4::Engine::get_clock();
  transfer_done(cluster, instance, std::size_t(index));
  return Woken::transfer;
}

bool more_requests_coming(const Cluster& cluster) {
  return !std::isinf(cluster.next_arrival) || cluster.held_count > 0 || !cluster.ready.empty();
}

}  // namespace

ssize_t Waiter::wait(double deadline, std::vector<sg4::ActivityPtr> activities) {
  const double until = std::min(deadline, sg4::Engine::get_clock() + kLongestWait);
  interrupted_ = false;
  if (activities.empty()) {
    mode_ = Mode::condition;
    std::unique_lock lock(*mutex_);
    const auto status = condition_->wait_until(lock, until);
    mode_ = Mode::idle;
    if (status == std::cv_status::timeout) return until < deadline && !interrupted_ ? wait(deadline, {}) : kDeadline;
    return kInterrupted;
  }
  const double span = std::max(0.0, until - sg4::Engine::get_clock());
  timer_ = sg4::this_actor::exec_init(span * sg4::this_actor::get_host()->get_speed());
  timer_->start();
  activities.push_back(timer_);
  mode_ = Mode::activities;
  ssize_t index;
  try {
    index = sg4::Activity::wait_any(activities);
  } catch (const simgrid::CancelException&) {
    mode_ = Mode::idle;
    timer_ = nullptr;
    return kInterrupted;
  }
  mode_ = Mode::idle;
  if (std::size_t(index) == activities.size() - 1) {
    timer_ = nullptr;
    return until < deadline ? wait(deadline, {activities.begin(), activities.end() - 1}) : kDeadline;
  }
  timer_->cancel();
  timer_ = nullptr;
  return index;
}

void Waiter::interrupt() {
  if (mode_ == Mode::condition) {
    interrupted_ = true;
    condition_->notify_one();
  } else if (mode_ == Mode::activities && timer_ && timer_->get_state() == sg4::Activity::State::STARTED) {
    // A timer that already finished (its actor is about to resume) must not be touched.
    timer_->cancel();
  }
}

void Cluster::interrupt(Instance& instance, double at) {
  instance.wake_time = at;
  instance.waiter.interrupt();
}

void Cluster::await_releases_until(double t) {
  if (next_arrival > t) return;
  std::unique_lock lock(*release_mutex);
  while (next_arrival <= t) released->wait(lock);
}

void Cluster::transfer_started(const Transfer& t, double now) {
  const auto begin = [&](UsageStats& u) {
    u.bytes += t.bytes;
    if (u.active++ == 0) u.busy_since = now;
  };
  for (const auto* link : t.route) begin(link_stats[link_index.at(link)]);
  if (t.disk >= 0) begin(disk_stats[std::size_t(t.disk)]);
}

void Cluster::transfer_ended(const Transfer& t, double now) {
  const auto end = [&](UsageStats& u) {
    if (--u.active == 0) u.busy += now - u.busy_since;
  };
  for (const auto* link : t.route) end(link_stats[link_index.at(link)]);
  if (t.disk >= 0) end(disk_stats[std::size_t(t.disk)]);
}

void Cluster::finished(const scheduling::Sequence& seq, int instance) {
  auto& r = records[slot_of.at(seq.request.id)];
  const double block = double(scenario->engine.block_size);
  r.instance = instance;
  r.first_token = seq.first_token;
  r.finish = seq.finish;
  r.ttft = seq.first_token - r.arrival;
  r.e2e = seq.finish - r.arrival;
  r.tpot = seq.request.output_tokens > 1 ? (seq.finish - seq.first_token) / double(seq.request.output_tokens - 1) : 0.0;
  r.cached_tokens = seq.cached_tokens;
  r.hbm_tokens = std::uint32_t(seq.hbm_hit_blocks * block);
  r.dram_tokens = std::uint32_t(seq.lower_hit_blocks[0] * block);
  r.ssd_tokens = std::uint32_t(seq.lower_hit_blocks[1] * block);
  r.remote_tokens = std::uint32_t(seq.lower_hit_blocks[2] * block);
  r.load_wait = seq.load_wait;
  r.preemptions = seq.preemptions;
  r.status = results::RequestStatus::completed;
  ++done;
  progress->update(seq.finish, done);

  // Closed loop: the turns waiting for this request can now be scheduled.
  auto children = held.find(seq.request.id);
  if (children == held.end()) return;
  const auto* engine = instances[std::size_t(instance)]->engine.get();
  for (auto& child : children->second) {
    // Known think time (generated sessions), or the trace's gap between the two arrivals
    // minus what the parent would have taken alone (its response time in the trace).
    const double think = child.think_time >= 0
                             ? child.think_time
                             : std::max(0.0, child.arrival - original_arrival.at(seq.request.id) -
                                                 engine->solo_latency(seq.request));
    ready.push({seq.finish + think, ready_order++, std::move(child)});
    --held_count;
  }
  held.erase(children);
  next_arrival = std::min(next_arrival, ready.top().time);
  injector_waiter.interrupt();
}

namespace {
// Records, routes and enqueues (or rejects) one request at time now.
void release(Cluster& cluster, workload::Request request, double now) {
  results::RequestRecord record;
  record.id = request.id;
  record.session = request.session;
  record.parent = request.parent;
  record.turn = request.turn;
  record.arrival = now;
  record.input_tokens = request.input_tokens;
  record.output_tokens = request.output_tokens;
  if (!cluster.slot_of.emplace(request.id, cluster.records.size()).second)
    throw std::runtime_error("workload produced request id " + std::to_string(request.id) + " twice");

  const std::size_t target = cluster.router->route(request, cluster.views, now);
  Instance& instance = *cluster.instances[target];
  record.instance = instance.index;
  const bool fits = instance.engine->can_ever_fit(request);
  if (!fits) record.status = results::RequestStatus::rejected;
  cluster.records.push_back(record);
  if (fits) {
    request.arrival = now;
    instance.engine->enqueue(std::move(request));
    Cluster::interrupt(instance, now);
  } else {
    XBT_INFO("request %llu rejected: %u+%u tokens can never fit instance %d", (unsigned long long)record.id,
             record.input_tokens, record.output_tokens, instance.index);
    ++cluster.done;
    // A rejected parent releases its children at their own times.
    if (auto children = cluster.held.find(record.id); children != cluster.held.end()) {
      for (auto& child : children->second) {
        const double at = std::max(now, child.arrival);
        cluster.ready.push({at, cluster.ready_order++, std::move(child)});
        --cluster.held_count;
      }
      cluster.held.erase(children);
    }
  }
  cluster.progress->update(now, cluster.done);
}

// Runs an actor's body; an exception (bad input met mid-run, an internal error) is kept for
// simulate() to rethrow and every actor is stopped, instead of aborting the process.
template <class Body>
void guarded(Cluster* cluster, Body body) {
  try {
    body();
  } catch (const simgrid::ForcefulKillException&) {
    throw;  // SimGrid's own way of ending an actor
  } catch (...) {
    if (!cluster->failure) cluster->failure = std::current_exception();
    sg4::Actor::kill_all();
  }
}
}  // namespace

void injector(Cluster* cluster) { guarded(cluster, [cluster] { inject(cluster); }); }
void serve(Cluster* cluster, Instance* instance) {
  guarded(cluster, [cluster, instance] { serve_requests(cluster, instance); });
}

void inject(Cluster* cluster) {
  const double limit = cluster->scenario->time_limit;
  const bool closed = cluster->scenario->closed_loop;
  auto& source = *cluster->scenario->workload;
  std::optional<workload::Request> pending = source.next();
  double last_arrival = 0;
  while (true) {
    const double from_source = pending ? pending->arrival : kInf;
    const double from_ready = cluster->ready.empty() ? kInf : cluster->ready.top().time;
    const double t = std::min(from_source, from_ready);
    cluster->next_arrival = t;
    if (std::isinf(t) && cluster->held_count == 0) break;  // nothing left to release
    if (t > limit || std::isinf(t)) {
      if (cluster->held_count == 0) break;
      // Parents still running may release children before the limit.
      if (cluster->injector_waiter.wait(limit, {}) == Waiter::kDeadline && !std::isinf(limit)) break;
      continue;
    }
    if (t > sg4::Engine::get_clock() && cluster->injector_waiter.wait(t, {}) == Waiter::kInterrupted)
      continue;  // a finished parent scheduled a turn, maybe earlier than t
    workload::Request request;
    if (from_source <= from_ready) {
      request = std::move(*pending);
      pending = source.next();
      if (request.arrival < last_arrival)
        throw std::runtime_error("workload produced request " + std::to_string(request.id) + " out of arrival order");
      last_arrival = request.arrival;
      if (closed) {
        cluster->original_arrival[request.id] = request.arrival;
        if (request.parent >= 0) {
          auto parent = cluster->slot_of.find(std::uint64_t(request.parent));
          const bool parent_pending = parent != cluster->slot_of.end() &&
                                      cluster->records[parent->second].status == results::RequestStatus::unfinished;
          if (parent_pending) {
            cluster->held[std::uint64_t(request.parent)].push_back(std::move(request));
            ++cluster->held_count;
            continue;
          }
        }
      }
    } else {
      request = std::move(const_cast<Cluster::Ready&>(cluster->ready.top()).request);
      cluster->ready.pop();
    }
    release(*cluster, std::move(request), t);
    // Only now is request no longer due: until here, instances at a boundary >= t wait
    // for it, and no instance may conclude that nothing more is coming.
    cluster->next_arrival = std::min(pending ? pending->arrival : kInf,
                                     cluster->ready.empty() ? kInf : cluster->ready.top().time);
    cluster->released->notify_all();
  }
  cluster->next_arrival = kInf;
  cluster->released->notify_all();
  for (auto& instance : cluster->instances) Cluster::interrupt(*instance, -1);
}

void serve_requests(Cluster* cluster, Instance* instance) {
  const double limit = cluster->scenario->time_limit;
  auto& engine = *instance->engine;
  const auto on_finish = [&](const scheduling::Sequence& seq) { cluster->finished(seq, instance->index); };

  double now = 0;  // exact time of this instance
  double at = 0;
  while (now <= limit) {
    if (engine.idle()) {
      if (!more_requests_coming(*cluster) && instance->transfers.empty()) break;
      const Woken woken = wait_event(*cluster, *instance, limit, at);
      if (woken == Woken::deadline && at >= limit) break;
      now = std::max(now, at);
      continue;
    }
    cluster->await_releases_until(now);
    if (!engine.plan(now, limit)) {
      // Nothing to compute until a load completes (or a request arrives).
      if (instance->transfers.empty())
        throw std::logic_error("instance " + std::to_string(instance->index) + " has queued work but cannot plan a step");
      const Woken woken = wait_event(*cluster, *instance, limit, at);
      if (woken == Woken::deadline && at >= limit) break;
      now = std::max(now, at);
      continue;
    }
    // Wait for the end of the plan; an arrival or a completed load cuts it at the next
    // step boundary.
    std::size_t last = engine.planned_steps() - 1;
    bool ends_run = false;
    while (true) {
      const double target = engine.step_end(last);
      if (target > limit) {  // the run ends before this step does
        while (wait_event(*cluster, *instance, limit, at) != Woken::deadline) {
        }
        ends_run = true;
        break;
      }
      if (wait_event(*cluster, *instance, target, at) == Woken::deadline) break;
      if (at < now) continue;  // a wake-up that cuts nothing
      const std::size_t done = engine.steps_done_by(at);
      if (done > last) continue;
      if (done > 0 && engine.step_end(done - 1) == at) {
        last = done - 1;  // exactly at a boundary: stop there
        break;
      }
      last = done;  // stop at the end of the step in progress
    }
    if (ends_run) break;
    now = engine.step_end(last);
    engine.apply(last + 1, on_finish);
  }
}

void sampler(Cluster* cluster) {
  const double interval = cluster->scenario->kv.sample_interval;
  for (std::uint64_t k = 0;; ++k) {
    const double t = double(k) * interval;
    if (t > cluster->scenario->time_limit) return;
    if (t > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(t);
    std::uint32_t row = 0;
    for (const auto& instance : cluster->instances)
      cluster->samples.push_back({t, row++, instance->engine->blocks().occupied()});
    for (const auto& store : cluster->stores) cluster->samples.push_back({t, row++, store->occupancy()});
  }
}

namespace {

std::vector<std::string> engine_arguments(bool verbose) {
  std::vector<std::string> args{"kvsim",
                                // LV08's correction factors are calibrated for TCP over
                                // Ethernet; NVLink/PCIe/RDMA transfers follow the textbook
                                // latency + size/bandwidth model.
                                "--cfg=network/model:CM02", "--cfg=network/crosstraffic:0"};
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer cannot follow the stack switching of SimGrid's default contexts (it
  // warns and may report false errors); thread contexts keep the sanitized suite exact.
  args.emplace_back("--cfg=contexts/factory:thread");
#endif
  if (!verbose) {
    args.insert(args.begin() + 1, "--log=root.thresh:warning");
    args.insert(args.begin() + 2, "--log=xbt_cfg.thresh:warning");
  } else {
    args.insert(args.begin() + 1, "--log=kvsim_engine.thresh:info");
  }
  return args;
}

template <std::size_t N>
void copy_name(char (&to)[N], const std::string& from) {
  std::memset(to, 0, N);
  std::memcpy(to, from.data(), std::min(N - 1, from.size()));
}

// Creates the lower-tier stores and gives each instance its view of them.
void build_tiers(Cluster& cluster) {
  const auto& s = *cluster.scenario;
  std::vector<std::array<int, 3>> views(cluster.instances.size(), {-1, -1, -1});
  for (int kind = 0; kind < 3; ++kind) {
    for (const auto& tier : s.kv.lower) {
      if (tier.kind != KvTiers::kKinds[kind]) continue;
      const auto capacity = std::uint64_t(tier.capacity / cluster.block_bytes);
      const auto add = [&](int location, const std::string& scope) {
        cluster.stores.push_back(std::make_unique<kvcache::TierStore>(tier.kind, capacity, tier.eviction));
        cluster.store_info.push_back({tier.kind, location, scope});
        return int(cluster.stores.size() - 1);
      };
      if (tier.scope == "instance") {
        for (auto& instance : cluster.instances) views[std::size_t(instance->index)][std::size_t(kind)] = add(instance->index, "instance");
      } else if (tier.scope == "node") {
        for (int n = 0; n < s.nodes; ++n) {
          const int store = add(n, "node");
          for (auto& instance : cluster.instances)
            if (instance->node == n) views[std::size_t(instance->index)][std::size_t(kind)] = store;
        }
      } else {
        const int store = add(0, "cluster");
        for (auto& view : views) view[std::size_t(kind)] = store;
      }
    }
  }
  for (auto& instance : cluster.instances) {
    instance->tiers = std::make_unique<KvTiers>(cluster, *instance, views[std::size_t(instance->index)]);
    instance->engine->set_backend(instance->tiers.get());
  }
}

}  // namespace

RunOutput simulate(config::Scenario& scenario, const RunOptions& options) {
  auto args = engine_arguments(options.verbose);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = int(args.size());
  sg4::Engine simgrid(&argc, argv.data());

  Cluster cluster;
  cluster.scenario = &scenario;
  cluster.platform = build_platform(scenario);
  for (auto* link : cluster.platform.all_links) {
    cluster.link_index.emplace(link, cluster.link_stats.size());
    cluster.link_stats.push_back({link->get_name()});
  }
  for (auto* disk : cluster.platform.ssds) cluster.disk_stats.push_back({disk->get_host()->get_name() + ":" + disk->get_name()});
  auto perf = compute::make_roofline(scenario.model, scenario.gpu, scenario.tp, scenario.compute);
  Progress progress(options.progress, scenario.workload->expected_count());
  cluster.router = scheduling::routing::make_router(scenario.router);
  cluster.progress = &progress;
  cluster.block_bytes = double(scenario.engine.block_size) * scenario.model.kv_bytes_per_token();
  const int per_node = scenario.node.gpus / scenario.tp;
  for (int i = 0; i < scenario.instances; ++i) {
    auto instance = std::make_unique<Instance>();
    instance->index = i;
    instance->node = i / per_node;
    for (int g = 0; g < scenario.tp; ++g)
      instance->gpus.push_back(cluster.platform.gpus[std::size_t(instance->node)][std::size_t((i % per_node) * scenario.tp + g)]);
    instance->engine = std::make_unique<scheduling::ServingEngine>(scenario.engine, *perf);
    cluster.views.push_back(instance->engine.get());
    cluster.instances.push_back(std::move(instance));
  }
  if (!scenario.kv.lower.empty()) build_tiers(cluster);

  sg4::Actor::create("injector", cluster.platform.cpus[0], injector, &cluster);
  for (auto& instance : cluster.instances)
    sg4::Actor::create("instance-" + std::to_string(instance->index), instance->gpus[0], serve, &cluster, instance.get());
  sg4::Actor::create("sampler", cluster.platform.cpus[0], sampler, &cluster)->daemonize();

  simgrid.run();
  progress.clear();
  if (cluster.failure) std::rethrow_exception(cluster.failure);

  RunOutput output;
  output.sim_duration = sg4::Engine::get_clock();
  output.waits = cluster.waits;
  const double block = double(scenario.engine.block_size);
  for (auto& instance : cluster.instances) {
    const auto& engine = *instance->engine;
    output.steps += engine.steps();
    engine.for_each_unfinished([&](const scheduling::Sequence& seq) {
      auto& r = cluster.records[cluster.slot_of.at(seq.request.id)];
      r.preemptions = seq.preemptions;
      r.cached_tokens = seq.cached_tokens;
      r.hbm_tokens = std::uint32_t(seq.hbm_hit_blocks * block);
      r.load_wait = seq.load_wait;
      if (seq.first_token >= 0) {
        r.first_token = seq.first_token;
        r.ttft = seq.first_token - r.arrival;
      }
    });
    results::TierRecord hbm;
    copy_name(hbm.tier, "hbm");
    hbm.location = instance->index;
    hbm.capacity_blocks = engine.blocks().capacity();
    hbm.lookup_blocks = engine.lookup_blocks();
    hbm.hit_blocks = engine.blocks().counters().hit_blocks;
    hbm.written_blocks = engine.blocks().counters().allocated;
    hbm.written_bytes = double(hbm.written_blocks) * cluster.block_bytes;
    hbm.evicted_blocks = engine.blocks().counters().evicted;
    hbm.occupancy_blocks = engine.blocks().occupied();
    output.tiers.push_back(hbm);
  }
  for (std::size_t i = 0; i < cluster.stores.size(); ++i) {
    const auto& store = *cluster.stores[i];
    const auto& c = store.counters();
    results::TierRecord row;
    copy_name(row.tier, cluster.store_info[i].kind);
    row.location = cluster.store_info[i].location;
    row.capacity_blocks = store.capacity();
    row.lookup_blocks = c.lookup_blocks;
    row.hit_blocks = c.hit_blocks;
    row.loaded_blocks = c.loaded_blocks;
    row.loaded_bytes = c.loaded_bytes;
    row.written_blocks = c.inserted_blocks;
    row.written_bytes = c.written_bytes;
    row.evicted_blocks = c.evicted_blocks;
    row.occupancy_blocks = store.occupancy();
    output.tiers.push_back(row);
  }
  for (const auto& stats : {&cluster.link_stats, &cluster.disk_stats})
    for (const auto& u : *stats) {
      if (u.bytes == 0) continue;  // untouched links would only bloat the table
      results::LinkRecord row;
      copy_name(row.name, u.name);
      row.bytes = u.bytes;
      row.busy = u.busy;
      output.links.push_back(row);
    }
  output.tier_samples = std::move(cluster.samples);
  output.requests = std::move(cluster.records);
  std::sort(output.requests.begin(), output.requests.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return output;
}

}  // namespace kvsim::engine
