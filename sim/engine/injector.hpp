// The injector actor: releases the workload's requests at their arrival times, routes each
// to an instance (or rejects it there), and wakes that instance.
//
// Closed loop: a follow-up turn whose parent has been read from the workload and has not
// finished yet (whether the parent is running, queued, or itself still held back for its
// own parent) is held; when the parent finishes, the turn is released its think time
// later: the known think time of generated sessions, or for traces the gap between the two
// arrivals minus what the parent would have taken alone. A rejected parent releases its
// turns at their own times.
//
// Instances at a step boundary at time t first wait until every arrival due at or before t
// has been released (await_releases_until), so a request arriving exactly at the end of a
// step joins the step that starts there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <simgrid/s4u/ConditionVariable.hpp>
#include <simgrid/s4u/Mutex.hpp>

#include "sim/engine/run_state.hpp"
#include "workloads/request.hpp"

namespace kvsim::engine {

class Injector {
 public:
  Injector(RunState& run, std::unique_ptr<workload::Source> source);

  // The actor body.
  void run();

  // Arrival time of the next request to be released (+inf when none is known).
  double next_arrival() const { return next_arrival_; }
  // Whether requests may still be released (known ones, or turns waiting for parents).
  bool more_coming() const;
  // Blocks the calling actor until every request arriving at or before t is released.
  void await_releases_until(double t);

  // Closed loop: a request finished on engine at seq.finish.
  void finished(const scheduling::Sequence& seq, const scheduling::ServingEngine& engine);

  const workload::Source& source() const { return *source_; }
  std::uint64_t expected_count() const { return source_->expected_count(); }

 private:
  struct Ready {
    double time;
    std::uint64_t order;
    workload::Request request;
    bool operator>(const Ready& o) const { return time != o.time ? time > o.time : order > o.order; }
  };

  // Records, routes and enqueues (or rejects) one request at time now.
  void release(workload::Request request, double now);
  // Turns held for parent become ready at max(now, their own arrival) (parent rejected).
  void release_children_at_own_time(std::uint64_t parent, double now);
  double earliest_pending() const;

  RunState& run_;
  std::unique_ptr<workload::Source> source_;
  const bool closed_loop_;
  std::optional<workload::Request> pending_;  // next request of the source

  double next_arrival_ = 0;
  simgrid::s4u::MutexPtr release_mutex_ = simgrid::s4u::Mutex::create();
  simgrid::s4u::ConditionVariablePtr released_ = simgrid::s4u::ConditionVariable::create();
  Waiter waiter_;

  // Closed loop state.
  std::unordered_set<std::uint64_t> open_;  // read from the source, not finished or rejected yet
  std::unordered_map<std::uint64_t, std::vector<workload::Request>> held_;  // parent id → turns
  std::size_t held_count_ = 0;
  std::unordered_map<std::uint64_t, double> trace_arrival_;  // arrival in the workload, while open
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready_;
  std::uint64_t ready_order_ = 0;
};

}  // namespace kvsim::engine
