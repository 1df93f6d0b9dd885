// Evictions inside an instance's multi-step plan, executed at their exact times.
//
// A decode-only plan may take cached free blocks (ServingEngine::next_eviction/evict_due):
// each step that needs them evicts at its start, where a one-step-at-a-time scheduler would
// plan that step and allocate. The evictions (identity dropped from the HBM index and the
// prefix directory, demotion transfers started) run from a SimGrid kernel timer at that
// time (EvictionTimer), in maestro: the driver waits only for its plan's end or a wake-up.
// A wait per eviction (a context switch and a re-armed wait over every load) was two thirds
// of a cluster run's instance waits. Fewer plans; the wake-ups stay those of single steps.
//
// SimGrid 3.32's main loop, at each date: the clock advances (finished writes are completed
// then, TransferService), timers run, then ended actions are handled (a load's end, an
// actor's wait timing out), then the actors woken at that date run. So the timer evicts
// before any actor runs at its date; the tie rules below keep that exact.
#pragma once

#include <cstddef>

#include "sim/engine/run_state.hpp"

namespace simgrid::kernel::timer {
class Timer;
}

namespace kvsim::engine {

enum class DueEvictions {
  performed,       // the plan goes on
  woken,           // a wake-up came first: cut the plan at its time, which evicts nothing
  woken_evicting,  // a wake-up came while the evictions started their transfers
};

// The instance's plan has reached time t, the start of a step that evicts, and its driver
// runs (the timer could not evict by itself). As at a step end, arrivals due by t are
// released first; if that (or anything else at t) woke the instance, nothing is evicted:
// `woken` with woken_at the wake-up's time, where the plan must be cut
// (StepPlan::cut_at), the plan made at t then evicting itself after seeing what woke it.
// Otherwise performs the evictions due by t: `performed`, or `woken_evicting` when a
// wake-up landed while their transfers started (simcalls, where other actors run). A
// one-step-at-a-time scheduler would have planned the step starting at t already: the plan
// must end with that step, no later.
DueEvictions run_due_evictions(RunState& run, Instance& instance, double t, double& woken_at);

// The kernel timer of one driver's in-plan evictions. The driver arms it before each wait
// for its plan and cancels it when woken (a cut plan drops the evictions of its cut steps;
// re-arming from the clock of each wake gives the dates the driver's own waits had).
// At the eviction's time t, in maestro, the timer:
// - hands the evictions back to the driver when an arrival due by t has not been released
//   yet (the injector has not run at t: the request joins the step starting at t, whose
//   plan may then differ) or a wake-up is pending: the driver is interrupted and runs
//   run_due_evictions, as when it waited for t itself (take_fallback);
// - else evicts (ServingEngine::evict_due: the demotion Comms start from maestro, where
//   simcalls run at once) and arms itself for the plan's next eviction. A wake-up at t
//   itself (a load ending at t is handled after timers) then must not drop the step
//   starting at t, whose evictions are done: kept_steps() is where a cut may stop.
class EvictionTimer {
 public:
  EvictionTimer(RunState& run, Instance& instance) : run_(run), instance_(instance) {}
  ~EvictionTimer() { cancel(); }  // also when the actor is killed: no timer outlives it
  EvictionTimer(const EvictionTimer&) = delete;
  EvictionTimer& operator=(const EvictionTimer&) = delete;

  // A new plan: none of its evictions performed yet.
  void new_plan() { kept_ = 1; }
  // Arms the timer for the next eviction among the current plan's first `steps` steps if it
  // comes before they end (replacing any armed one).
  void arm(std::size_t steps);
  // Removes the armed timer and forgets an eviction handed back.
  void cancel();
  // Fewest steps the plan may keep: up to the latest step whose evictions the timer did.
  std::size_t kept_steps() const { return kept_; }
  // Whether the timer handed evictions back (it interrupted the driver); t is their time.
  bool take_fallback(double& t);

 private:
  void fire(double t);

  RunState& run_;
  Instance& instance_;
  simgrid::kernel::timer::Timer* timer_ = nullptr;  // armed timer (SimGrid deletes it once run)
  std::size_t steps_ = 0;                           // steps of the plan the driver keeps
  std::size_t kept_ = 1;
  double fallback_ = -1;  // time of evictions handed back, else < 0
};

}  // namespace kvsim::engine
