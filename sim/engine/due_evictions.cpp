#include "sim/engine/due_evictions.hpp"

#include <algorithm>

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

#include "sim/engine/injector.hpp"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_due_evictions, kvsim_engine, "evictions inside multi-step plans");

namespace kvsim::engine {

DueEvictions run_due_evictions(RunState& run, Instance& instance, double t, double& woken_at) {
  // A request arriving exactly at t joins the step starting at t (Injector), whose plan may
  // then differ (an admission, a preemption): leave the evictions to that plan.
  run.injector->await_releases_until(t);
  // The waiter drops wake-ups that land while the driver is not waiting (the timer fired
  // as they came, or the await above yielded): the plan must still be cut for them.
  if (instance.wake_pending()) {
    woken_at = instance.take_wake_time();
    return DueEvictions::woken;
  }
  XBT_VERB("instance %d: evictions due at %.9f", instance.index, t);
  instance.engine->evict_due(t);
  if (!instance.wake_pending()) return DueEvictions::performed;
  // A wake-up without a time (the workload has ended) cuts nothing.
  return instance.take_wake_time() >= 0 ? DueEvictions::woken_evicting : DueEvictions::performed;
}

void EvictionTimer::arm(std::size_t steps) {
  if (timer_ != nullptr) {
    timer_->remove();
    timer_ = nullptr;
  }
  steps_ = steps;
  const auto& engine = *instance_.engine;
  const double t = engine.next_eviction(steps);
  if (!(t < engine.current_plan().end(steps - 1))) return;
  // The date a wait for t from now would get (Waiter: a timeout of t - clock, at least 0),
  // so that the demotions start at the clock they did when the driver waited itself. The
  // driver sets and removes kernel timers directly, without a simcall (a context switch,
  // what this saves): actors and maestro run one at a time, never concurrently.
  const double clock = simgrid::s4u::Engine::get_clock();
  timer_ = simgrid::kernel::timer::Timer::set(clock + std::max(0.0, t - clock), [this, t] { fire(t); });
}

void EvictionTimer::cancel() {
  if (timer_ != nullptr) timer_->remove();
  timer_ = nullptr;
  fallback_ = -1;
}

bool EvictionTimer::take_fallback(double& t) {
  if (fallback_ < 0) return false;
  t = fallback_;
  fallback_ = -1;
  return true;
}

void EvictionTimer::fire(double t) {
  timer_ = nullptr;  // SimGrid deletes a timer once it has run
  if (run_.injector->next_arrival() <= t || instance_.wake_pending()) {
    XBT_VERB("instance %d: evictions due at %.9f handed back to the driver", instance_.index, t);
    fallback_ = t;
    instance_.waiter.interrupt();
    return;
  }
  XBT_VERB("instance %d: evictions due at %.9f (timer)", instance_.index, t);
  auto& engine = *instance_.engine;
  engine.evict_due(t);
  kept_ = engine.current_plan().done_by(t) + 1;
  arm(steps_);
}

}  // namespace kvsim::engine
