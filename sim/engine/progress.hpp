// The progress line shown on a terminal while a run is in progress: simulated time,
// requests done, wall time and an ETA. The ETA extrapolates the wall time from the share of
// the run done, taken from whatever bounds the run: the workload's request count, its
// duration or trace file (Source::progress), or the run's time limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace kvsim::engine {

// Share of the run done, in [0, 1], or negative when nothing bounds it: the largest of
// done / expected_requests (when expected_requests > 0), source_progress (when >= 0) and
// sim_time / time_limit (when finite), since the run ends when the first bound is reached.
double run_fraction(double sim_time, std::uint64_t done, std::uint64_t expected_requests, double source_progress,
                    double time_limit);

// The line's text (without the leading carriage return): ETA = wall × (1 − f) / f for the
// fraction f above, "?" while it is unknown or zero.
std::string progress_text(double sim_time, std::uint64_t done, std::uint64_t expected_requests, double wall,
                          double fraction);

class Progress {
 public:
  // source_progress: the workload source's Source::progress at a simulated time (may be
  // empty). time_limit: the run's, infinity when none.
  Progress(bool enabled, std::uint64_t expected_requests, std::function<double(double)> source_progress = {},
           double time_limit = std::numeric_limits<double>::infinity());
  ~Progress();
  // Cheap to call often: redraws at most five times a second.
  void update(double sim_time, std::uint64_t done);
  void clear();

 private:
  bool enabled_;
  std::uint64_t expected_;
  std::function<double(double)> source_progress_;
  double time_limit_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace kvsim::engine
