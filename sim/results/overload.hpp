// Overload detection: does the queue grow without bound over the run's steady part?
//
// Rule (README "Overload"): take the counted requests that were not rejected, in arrival
// order, and each one's wait for its first token: its TTFT, or, when it never produced a
// token, the time from its arrival to the end of the run (a lower bound). Compare the first
// and the last quarter of them (at least kMinRequests requests in all):
//   growth = (median wait of the last quarter - median wait of the first quarter)
//            / (median arrival of the last quarter - median arrival of the first quarter)
// In a stable system the wait does not trend, so growth stays near 0. When arrivals exceed
// the service rate by a fraction x, the request arriving at t is served once the λt
// requests before it are, at λt/μ, so it waits t (λ/μ - 1): growth ≈ x = arrival rate /
// service rate - 1.
// The run is overloaded when growth >= kMinGrowth (arrivals exceed capacity by about 5 %)
// and the median wait at least grows by half (last >= 1.5 x first), which keeps the noise
// of short, bursty runs with small waits from tripping it. A closed-loop workload slows its
// own arrivals and is rarely flagged: its queue cannot grow without bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvsim::results {

struct OverloadVerdict {
  bool overloaded = false;
  bool judged = false;        // enough requests to decide
  double growth = 0;          // s of extra wait per s of arrivals
  double first_wait = 0;      // s, median wait of the first quarter
  double last_wait = 0;       // s, median wait of the last quarter
  std::string explanation;    // one sentence for the summary
};

class OverloadDetector {
 public:
  static constexpr std::size_t kMinRequests = 40;
  static constexpr double kMinGrowth = 0.05;
  static constexpr double kMinRatio = 1.5;

  // wait < 0: the request never produced a token (censored at the end of the run).
  void add(double arrival, double wait) { samples_.push_back({arrival, wait}); }
  OverloadVerdict finish(double end_of_run) const;

 private:
  struct Sample {
    double arrival, wait;
  };
  std::vector<Sample> samples_;
};

}  // namespace kvsim::results
