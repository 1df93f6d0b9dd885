// State shared by the actors of one run (sim/engine/*.cpp). Actors are cooperative (one
// runs at a time), so plain members need no locking.
//
// Time: the engine's step ends and the requests' arrivals are exact (computed by kvsim);
// SimGrid's clock reaches a deadline only to within rounding (it converts absolute
// deadlines into durations and back). So the actors keep their own exact notion of "now"
// and use SimGrid only to wait and to order events; ties between an arrival and a step end
// are resolved on the exact values, never on the clock. Transfers (KV loads and writes) are
// SimGrid Comms and Ios, and their completion times are SimGrid's.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

#include <simgrid/s4u/Activity.hpp>
#include <simgrid/s4u/ConditionVariable.hpp>
#include <simgrid/s4u/Disk.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/Mutex.hpp>

#include "models/kvcache/tier_store.hpp"
#include "models/scheduling/routing/router.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "sim/config/scenario.hpp"
#include "sim/engine/platform.hpp"
#include "sim/engine/progress.hpp"
#include "sim/results/records.hpp"

namespace kvsim::engine {

class KvTiers;

// One KV transfer stage in flight: a Comm over a route or an Io on a disk.
struct Transfer {
  simgrid::s4u::ActivityPtr activity;
  std::uint64_t request = kNoRequest;  // load it belongs to; kNoRequest for writes
  std::vector<simgrid::s4u::Link*> route;
  int disk = -1;         // index into Cluster::disk_stats for an Io
  double bytes = 0;
  // A load from SSD is a disk read followed by the PCIe copy to the GPUs.
  std::vector<std::pair<simgrid::s4u::Host*, simgrid::s4u::Host*>> then_copy;
  static constexpr std::uint64_t kNoRequest = std::numeric_limits<std::uint64_t>::max();
};

// How an actor waits for "a deadline, one of these activities, or an interrupt". Without
// activities it waits on a condition variable with a timeout (cheap); with activities it
// waits on them plus a timer Exec on its own host, and an interrupt cancels the timer
// (SimGrid 3.32 cannot wait on a condition and activities at once).
class Waiter {
 public:
  static constexpr ssize_t kDeadline = -1;
  static constexpr ssize_t kInterrupted = -2;
  // Index into activities of the one that completed, kDeadline or kInterrupted.
  ssize_t wait(double deadline, std::vector<simgrid::s4u::ActivityPtr> activities);
  // Wakes the actor if it is waiting; harmless otherwise.
  void interrupt();

 private:
  enum class Mode { idle, condition, activities };
  simgrid::s4u::MutexPtr mutex_ = simgrid::s4u::Mutex::create();
  simgrid::s4u::ConditionVariablePtr condition_ = simgrid::s4u::ConditionVariable::create();
  simgrid::s4u::ExecPtr timer_;
  Mode mode_ = Mode::idle;
  bool interrupted_ = false;
};

struct Instance {
  int index = 0;
  int node = 0;
  std::vector<simgrid::s4u::Host*> gpus;  // the tp GPUs; the actor runs on gpus[0]
  std::unique_ptr<scheduling::ServingEngine> engine;
  std::unique_ptr<KvTiers> tiers;
  std::vector<Transfer> transfers;                      // in flight
  std::unordered_map<std::uint64_t, int> load_parts;    // request → transfers still to finish
  Waiter waiter;
  double wake_time = -1;  // exact time of the arrival that last interrupted the wait
};

struct UsageStats {
  std::string name;
  double bytes = 0;
  double busy = 0;  // s with at least one transfer in flight
  int active = 0;
  double busy_since = 0;
};

struct Cluster {
  const config::Scenario* scenario = nullptr;
  Platform platform;
  std::vector<std::unique_ptr<Instance>> instances;
  std::vector<const scheduling::ServingEngine*> views;
  std::unique_ptr<scheduling::routing::Router> router;
  double block_bytes = 0;  // KV bytes of one block, all tp shards together

  // Lower tiers: every store (node DRAM, node SSD, cluster pool, per-instance DRAM).
  std::vector<std::unique_ptr<kvcache::TierStore>> stores;
  struct StoreInfo {
    std::string kind;
    int location = 0;  // node index, instance index (dram per instance) or 0 (remote)
    std::string scope;
  };
  std::vector<StoreInfo> store_info;

  // Transfer accounting per link and per disk.
  std::vector<UsageStats> link_stats;
  std::unordered_map<const simgrid::s4u::Link*, std::size_t> link_index;
  std::vector<UsageStats> disk_stats;
  void transfer_started(const Transfer& t, double now);
  void transfer_ended(const Transfer& t, double now);

  // Injector state: arrival time of the next request it will release (+inf when none is
  // known), signalled after every release for instances waiting at a step boundary.
  double next_arrival = 0;
  simgrid::s4u::MutexPtr release_mutex = simgrid::s4u::Mutex::create();
  simgrid::s4u::ConditionVariablePtr released = simgrid::s4u::ConditionVariable::create();
  // Closed loop: follow-up turns waiting for their parent, and turns ready to be released.
  std::unordered_map<std::uint64_t, std::vector<workload::Request>> held;  // parent id → children
  std::size_t held_count = 0;
  std::unordered_map<std::uint64_t, double> original_arrival;  // closed loop: arrival in the trace
  struct Ready {
    double time;
    std::uint64_t order;
    workload::Request request;
    bool operator>(const Ready& o) const { return time != o.time ? time > o.time : order > o.order; }
  };
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
  std::uint64_t ready_order = 0;
  Waiter injector_waiter;

  std::vector<results::RequestRecord> records;
  std::unordered_map<std::uint64_t, std::size_t> slot_of;  // request id → records index
  std::uint64_t done = 0;
  std::uint64_t waits = 0;
  Progress* progress = nullptr;

  // Occupancy samples: (time, store index, blocks); HBM stores are the instances.
  std::vector<results::TierSample> samples;

  // The first error raised inside an actor (e.g. a malformed trace line met while
  // streaming); the run stops and simulate() rethrows it.
  std::exception_ptr failure;

  void finished(const scheduling::Sequence& seq, int instance);
  // Blocks until every request arriving at or before t has been released.
  void await_releases_until(double t);
  // Interrupts instance's wait (an arrival or a completed load changed its state).
  static void interrupt(Instance& instance, double at);
};

// Actor entry points (errors are caught and stop the run, see Cluster::failure) and the
// bodies they guard.
void injector(Cluster* cluster);
void serve(Cluster* cluster, Instance* instance);
void inject(Cluster* cluster);
void serve_requests(Cluster* cluster, Instance* instance);
void sampler(Cluster* cluster);

}  // namespace kvsim::engine
