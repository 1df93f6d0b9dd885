// The outstanding tokens of a set of instances, kept side by side for a router that reads
// them all at every request (least_loaded_index and the candidate bounds of prefix_affinity
// scan every instance). Reading ServingEngine::outstanding_tokens instance by instance
// touches each engine and its step plan, two cache misses each: at 1,024 instances that was
// 15 % of a cluster run. An engine's figure is a step function of time that changes only
// when the engine is called (enqueue, plan, apply, a finished load: it then marks its entry
// stale through the boards watching it) or when one of its planned steps ends. So an entry
// holds the figure with the interval between two step ends over which it stands, and is
// read again from the engine only outside that interval or once marked stale. The values
// are the engine's own (outstanding_tokens), so routing decisions are unchanged.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "models/scheduling/serving_engine.hpp"

namespace kvsim::scheduling {

class LoadBoard {
 public:
  explicit LoadBoard(std::size_t instances) : entries_(instances) {}

  // The engine watched in slot changed its books: its figure must be read again.
  void stale(std::uint32_t slot) { entries_[slot].until = -std::numeric_limits<double>::infinity(); }

  // engine.outstanding_tokens(t), where engine is the one watched in slot.
  double load(std::uint32_t slot, const ServingEngine& engine, double t) {
    Entry& e = entries_[slot];
    if (e.from <= t && t < e.until) return e.load;
    e.load = engine.outstanding_tokens(t);
    // outstanding_tokens counts the steps ended by t, which stays `done` from the end of
    // the last of them up to (not including) the end of the next.
    const StepPlan& plan = engine.current_plan();
    const std::size_t done = plan.done_by(t);
    e.from = done > 0 ? plan.end(done - 1) : -std::numeric_limits<double>::infinity();
    e.until = done < plan.size() ? plan.end(done) : std::numeric_limits<double>::infinity();
    return e.load;
  }

 private:
  struct Entry {
    double load = 0;
    double from = 0;
    double until = -std::numeric_limits<double>::infinity();  // stale until first read
  };
  std::vector<Entry> entries_;
};

}  // namespace kvsim::scheduling
