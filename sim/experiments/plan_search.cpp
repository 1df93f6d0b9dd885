#include "sim/experiments/plan_search.hpp"

#include <algorithm>
#include <map>

namespace kvsim::experiments {

CountSearch smallest_passing(std::int64_t lo, std::int64_t hi, const std::function<bool(std::int64_t)>& passes) {
  CountSearch out;
  std::map<std::int64_t, bool> known;
  auto ask = [&](std::int64_t n) {
    if (auto it = known.find(n); it != known.end()) return it->second;
    out.probes.push_back(n);
    return known[n] = passes(n);
  };
  // Gallop: the last failing value and the first passing one.
  std::int64_t failing = lo - 1;
  std::int64_t step = 1;
  std::int64_t n = lo;
  while (true) {
    if (ask(n)) break;
    failing = n;
    if (n == hi) return out;  // even the largest fails
    n = std::min(hi, lo - 1 + (step *= 2));
  }
  // Bisect (failing, n]: n passes, failing fails (or is below the range).
  std::int64_t passing = n;
  while (passing - failing > 1) {
    const std::int64_t mid = failing + (passing - failing) / 2;
    (ask(mid) ? passing : failing) = mid;
  }
  out.smallest = passing;
  return out;
}

RateSearch highest_passing(double lo, double hi, double tolerance, const std::function<bool(double)>& passes) {
  RateSearch out;
  auto ask = [&](double x) {
    out.probes.push_back(x);
    return passes(x);
  };
  if (!ask(lo)) {
    out.lowest_fail = lo;
    return out;
  }
  double good = lo;
  double bad = 0;
  bool found_bad = false;
  for (double x = std::min(hi, lo * 2); !found_bad; x = std::min(hi, x * 2)) {
    if (ask(x)) {
      good = x;
      if (x >= hi) break;
    } else {
      bad = x;
      found_bad = true;
    }
  }
  out.highest_pass = good;
  if (!found_bad) return out;
  while (bad - good > tolerance * good) {
    const double mid = 0.5 * (good + bad);
    (ask(mid) ? good : bad) = mid;
  }
  out.highest_pass = good;
  out.lowest_fail = bad;
  return out;
}

}  // namespace kvsim::experiments
