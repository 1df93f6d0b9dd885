// Evictions inside an instance's multi-step plan, executed at their exact times.
//
// A decode-only plan may take cached free blocks (ServingEngine::next_eviction/evict_due):
// each step that needs them evicts at its start, where a one-step-at-a-time scheduler would
// plan that step and allocate. The driver waits for that time like for a step end, and
// instead of applying the plan and planning again it performs the evictions (identity
// dropped from the HBM index and the prefix directory, demotion transfers started) and
// goes on waiting for the same plan. Fewer plans; the wake-ups stay those of single steps.
#pragma once

#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

enum class DueEvictions {
  performed,       // the plan goes on
  woken,           // a wake-up came first: cut the plan at its time, which evicts nothing
  woken_evicting,  // a wake-up came while the evictions started their transfers
};

// The instance's plan has reached time t, the start of a step that evicts. As at a step
// end, arrivals due by t are released first; if that (or anything else at t) woke the
// instance, nothing is evicted: `woken` with woken_at the wake-up's time, where the plan
// must be cut (StepPlan::cut_at), the plan made at t then evicting itself after seeing
// what woke it. Otherwise performs the evictions due by t: `performed`, or
// `woken_evicting` when a wake-up landed while their transfers started (simcalls, where
// other actors run). A one-step-at-a-time scheduler would have planned the step starting
// at t already: the plan must end with that step, no later.
DueEvictions run_due_evictions(RunState& run, Instance& instance, double t, double& woken_at);

}  // namespace kvsim::engine
