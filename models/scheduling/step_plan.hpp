// The steps an instance has planned from one scheduling decision: usually one, several when
// a decode-only batch cannot change before its first request finishes ("multi-step"; see
// serving_engine.hpp). Plain data plus the one rule that keeps multi-step exact: when the
// instance is woken at t while the plan runs (an arrival, a finished load), the plan is cut
// at the first step end at or after t, which is exactly where a one-step-at-a-time
// scheduler would next have looked at its queue. The instance driver and the tests both
// cut plans through cut_at, so the rule lives in one place.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <vector>

namespace kvsim::scheduling {

class StepPlan {
 public:
  void clear() {
    steps_.clear();
    last_done_ = 0;
  }
  void start(double now) {
    start_ = now;
    clear();
  }
  // Appends a step ending at `end` whose GPUs run kernels for `kernel_share` of it (the rest
  // is CPU overhead; for the energy account).
  void push_end(double end, double kernel_share = 1.0) { steps_.push_back({end, kernel_share}); }

  bool empty() const { return steps_.empty(); }
  std::size_t size() const { return steps_.size(); }
  double start() const { return start_; }
  // End of step i (0-based); step i starts at end(i - 1), step 0 at start().
  double end(std::size_t i) const { return steps_[i].end; }
  double last_end() const { return steps_.back().end; }
  double kernel_share(std::size_t i) const { return steps_[i].kernel_share; }

  // Steps that have ended by time t (end <= t).
  std::size_t done_by(double t) const {
    // Routers read every instance's load at each arrival, so while a plan runs the queries
    // come in non-decreasing time and mostly fall in the step of the previous one: look from
    // there first, a few steps on, and fall back to a binary search. The answer is the same.
    std::size_t i = last_done_;
    if (i > 0 && steps_[i - 1].end > t) {
      i = search(0, t);
    } else {
      for (std::size_t k = 0; k < kScanSteps && i < steps_.size() && steps_[i].end <= t; ++k) ++i;
      if (i < steps_.size() && steps_[i].end <= t) i = search(i, t);
    }
    last_done_ = i;
    return i;
  }

  // How many steps to complete when the instance is woken at t (start() <= t): the steps
  // ended by t when t is exactly a step end, else those plus the step in progress; never
  // more than the plan holds, never fewer than one.
  std::size_t cut_at(double t) const {
    assert(!steps_.empty());
    const std::size_t done = done_by(t);
    if (done > 0 && steps_[done - 1].end == t) return done;
    return std::min(done + 1, steps_.size());
  }

 private:
  struct Step {
    double end;
    double kernel_share;
  };
  static constexpr std::size_t kScanSteps = 4;
  // Steps ended by t, knowing that the first `from` have.
  std::size_t search(std::size_t from, double t) const {
    const auto it = std::upper_bound(steps_.begin() + std::ptrdiff_t(from), steps_.end(), t,
                                     [](double time, const Step& step) { return time < step.end; });
    return static_cast<std::size_t>(it - steps_.begin());
  }

  double start_ = 0;
  std::vector<Step> steps_;  // one array: a plan of many steps is appended step by step
  mutable std::size_t last_done_ = 0;  // done_by's previous answer (a hint, not state)
};

}  // namespace kvsim::scheduling
