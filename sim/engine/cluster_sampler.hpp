// Per-instance and per-link time series (/timeseries/instances, /timeseries/links), taken at
// the tier-occupancy sampling instants (kvcache.sample_interval). Rows are written only when
// something changed: an instance's row when its queue, running set, batch or HBM use
// differs from its last row; a link's row while it carries traffic, plus the first sample
// after it went idle (utilisation 0), so idle stretches and idle links cost nothing.
#pragma once

#include <vector>

#include "sim/results/records.hpp"

namespace kvsim::engine {

struct RunState;

class ClusterSampler {
 public:
  // Samples every instance and link at time t into run's instance_samples and link_samples.
  void sample(RunState& run, double t);

 private:
  std::vector<results::InstanceSample> last_;  // per instance, time ignored
  std::vector<bool> seen_;
  std::vector<double> link_last_;              // per platform link: last recorded utilisation
};

}  // namespace kvsim::engine
