#include "sim/results/overload.hpp"

#include <algorithm>
#include <cstdio>

namespace kvsim::results {

namespace {
// Lower median: a robust centre that is one of the values.
double median(std::vector<double> v) {
  const auto mid = v.begin() + long((v.size() - 1) / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}
}  // namespace

OverloadVerdict OverloadDetector::finish(double end_of_run) const {
  OverloadVerdict verdict;
  if (samples_.size() < kMinRequests) {
    verdict.explanation = "not judged: fewer than " + std::to_string(kMinRequests) + " requests in the window";
    return verdict;
  }
  std::vector<Sample> sorted = samples_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Sample& a, const Sample& b) { return a.arrival < b.arrival; });
  const std::size_t quarter = sorted.size() / 4;
  const auto quarter_medians = [&](std::size_t from) {
    std::vector<double> arrivals, waits;
    for (std::size_t i = from; i < from + quarter; ++i) {
      arrivals.push_back(sorted[i].arrival);
      waits.push_back(sorted[i].wait >= 0 ? sorted[i].wait : end_of_run - sorted[i].arrival);
    }
    return std::pair{median(arrivals), median(waits)};
  };
  const auto [first_arrival, first_wait] = quarter_medians(0);
  const auto [last_arrival, last_wait] = quarter_medians(sorted.size() - quarter);
  verdict.judged = true;
  verdict.first_wait = first_wait;
  verdict.last_wait = last_wait;
  const double span = last_arrival - first_arrival;
  verdict.growth = span > 0 ? (last_wait - first_wait) / span : 0.0;
  verdict.overloaded = verdict.growth >= kMinGrowth && last_wait >= kMinRatio * first_wait;
  char text[256];
  if (verdict.overloaded) {
    std::snprintf(text, sizeof text,
                  "OVERLOADED: arrivals exceed capacity; the wait for a first token grows by %.3f s per s of "
                  "arrivals (median %.3f s in the first quarter of the window, %.3f s in the last)",
                  verdict.growth, first_wait, last_wait);
  } else {
    std::snprintf(text, sizeof text,
                  "stable: the wait for a first token does not grow (median %.3f s in the first quarter of the "
                  "window, %.3f s in the last)",
                  first_wait, last_wait);
  }
  verdict.explanation = text;
  return verdict;
}

}  // namespace kvsim::results
