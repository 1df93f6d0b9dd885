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
    ends_.clear();
    kernel_shares_.clear();
  }
  void start(double now) {
    start_ = now;
    clear();
  }
  // Appends a step ending at `end` whose GPUs run kernels for `kernel_share` of it (the rest
  // is CPU overhead; for the energy account).
  void push_end(double end, double kernel_share = 1.0) {
    ends_.push_back(end);
    kernel_shares_.push_back(kernel_share);
  }

  bool empty() const { return ends_.empty(); }
  std::size_t size() const { return ends_.size(); }
  double start() const { return start_; }
  // End of step i (0-based); step i starts at end(i - 1), step 0 at start().
  double end(std::size_t i) const { return ends_[i]; }
  double last_end() const { return ends_.back(); }
  double kernel_share(std::size_t i) const { return kernel_shares_[i]; }

  // Steps that have ended by time t (end <= t).
  std::size_t done_by(double t) const {
    return static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), t) - ends_.begin());
  }

  // How many steps to complete when the instance is woken at t (start() <= t): the steps
  // ended by t when t is exactly a step end, else those plus the step in progress; never
  // more than the plan holds, never fewer than one.
  std::size_t cut_at(double t) const {
    assert(!ends_.empty());
    const std::size_t done = done_by(t);
    if (done > 0 && ends_[done - 1] == t) return done;
    return std::min(done + 1, ends_.size());
  }

 private:
  double start_ = 0;
  std::vector<double> ends_;
  std::vector<double> kernel_shares_;
};

}  // namespace kvsim::scheduling
