// The searches of `kvsim plan`, free of simulation: they ask a predicate "does this value
// meet every SLO?" and assume it is monotone (more capacity never hurts; more load never
// helps), which holds up to noise; the plan decides each probe on several seeds.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace kvsim::experiments {

struct CountSearch {
  std::optional<std::int64_t> smallest;  // smallest passing value; none when even `hi` fails
  std::vector<std::int64_t> probes;      // values asked, in order (each once)
};

// Smallest n in [lo, hi] with passes(n). Gallops up from lo (lo, 2lo, 4lo, ... capped at
// hi) to the first passing value, then bisects between it and the last failing one. Small
// answers are found without simulating huge clusters; probes <= 2·ceil(log2(hi-lo+1)) + 1.
CountSearch smallest_passing(std::int64_t lo, std::int64_t hi, const std::function<bool(std::int64_t)>& passes);

struct RateSearch {
  std::optional<double> highest_pass;  // highest value found to pass; none when lo fails
  std::optional<double> lowest_fail;   // lowest value found to fail; none when hi passes
  std::vector<double> probes;
};

// Highest x in [lo, hi] with passes(x): doubles from lo until a failure (or hi), then
// bisects until lowest_fail - highest_pass <= tolerance · highest_pass.
RateSearch highest_passing(double lo, double hi, double tolerance, const std::function<bool(double)>& passes);

}  // namespace kvsim::experiments
