#include "sim/engine/due_evictions.hpp"

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

}  // namespace kvsim::engine
