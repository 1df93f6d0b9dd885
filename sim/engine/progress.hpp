// The progress line shown on a terminal while a run is in progress.
#pragma once

#include <chrono>
#include <cstdint>

namespace kvsim::engine {

class Progress {
 public:
  Progress(bool enabled, std::uint64_t expected_requests);
  ~Progress();
  // Cheap to call often: redraws at most five times a second.
  void update(double sim_time, std::uint64_t done);
  void clear();

 private:
  bool enabled_;
  std::uint64_t expected_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace kvsim::engine
