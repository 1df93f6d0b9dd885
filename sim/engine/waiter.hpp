// How an actor waits for "a deadline, one of these activities, or an interrupt".
//
// SimGrid 3.32 cannot wait on a condition and on activities at once. Without activities an
// actor waits on a condition variable with a timeout (cheapest); with activities it waits on
// them plus a timer Exec on its own host, and an interrupt cancels the timer.
#pragma once

#include <vector>

#include <simgrid/s4u/Activity.hpp>
#include <simgrid/s4u/ConditionVariable.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Mutex.hpp>

namespace kvsim::engine {

class Waiter {
 public:
  static constexpr ssize_t kDeadline = -1;
  static constexpr ssize_t kInterrupted = -2;
  // Index into activities of the one that completed, kDeadline or kInterrupted. A deadline
  // far away (or infinite) is waited for in bounded slices, in a loop.
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

}  // namespace kvsim::engine
