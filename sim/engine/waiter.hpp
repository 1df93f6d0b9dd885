// How an actor waits for "a deadline, one of these activities, or an interrupt".
//
// SimGrid 3.32 cannot wait on a condition and on activities at once. Without activities an
// actor waits on a semaphore with a timeout, which an interrupt releases: one simcall per
// wait (a condition variable needs three: lock, wait, unlock, and the waits are most of a
// cluster run's events). With activities it waits on them (with a timeout) plus a doorbell:
// an endless Exec on its own host that only an interrupt cancels. The doorbell outlives the
// waits and is made again only after an interrupt: a cluster run waits on its transfers
// about once per transfer, and an Exec per wait (started, then cancelled) cost more than
// the rest of the wait.
#pragma once

#include <vector>

#include <simgrid/s4u/Activity.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Semaphore.hpp>

namespace kvsim::engine {

class Waiter {
 public:
  static constexpr ssize_t kDeadline = -1;
  static constexpr ssize_t kInterrupted = -2;
  // Index of the activity that completed (into activities, then on into more), kDeadline or
  // kInterrupted. A deadline far away (or infinite) is waited for in bounded slices, in a
  // loop.
  ssize_t wait(double deadline, const std::vector<simgrid::s4u::ActivityPtr>& activities,
               const std::vector<simgrid::s4u::ActivityPtr>& more = {});
  // Wakes the actor if it is waiting; harmless otherwise.
  void interrupt();
  // Cancels the doorbell: the actor waits no more, and no started Exec outlives it.
  void close();

 private:
  enum class Mode { idle, condition, activities };
  // Holds a token only between an interrupt and the waiter taking it.
  simgrid::s4u::SemaphorePtr semaphore_ = simgrid::s4u::Semaphore::create(0);
  simgrid::s4u::ExecPtr doorbell_;
  std::vector<simgrid::s4u::ActivityPtr> waited_;  // activities plus the doorbell, reused
  Mode mode_ = Mode::idle;
  bool interrupted_ = false;
};

}  // namespace kvsim::engine
