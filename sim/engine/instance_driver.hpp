// The instance driver actor: runs one instance's engine against simulated time.
//
//   plan (the engine forms the next step, or several identical decode steps)
//   → wait for the plan's deadline, an interrupt (an arrival) or a transfer's completion
//   → apply the steps that have ended (an arrival or a completed load cuts a multi-step
//     plan at the next step boundary, so results equal stepping one step at a time).
//
// The engine (models/scheduling/serving_engine) is pure model code that never sees
// SimGrid; this loop is the only place where its plans meet the clock.
#pragma once

#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

void drive_instance(RunState& run, Instance& instance);

}  // namespace kvsim::engine
