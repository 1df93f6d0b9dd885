#include "sim/engine/cluster_sampler.hpp"

#include <cstring>

#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

void ClusterSampler::sample(RunState& run, double t) {
  const std::size_t n = run.instances.size();
  last_.resize(n);
  seen_.resize(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& engine = *run.instances[i]->engine;
    results::InstanceSample s;
    s.time = t;
    s.instance = std::uint32_t(i);
    s.waiting = std::uint32_t(engine.waiting());
    s.running = std::uint32_t(engine.running());
    s.batch_tokens = engine.current_plan().empty() ? 0 : engine.last_shape().new_tokens;
    s.hbm_blocks = engine.occupied_blocks_at(t);
    const auto& l = last_[i];
    if (!seen_[i] || l.waiting != s.waiting || l.running != s.running || l.batch_tokens != s.batch_tokens ||
        l.hbm_blocks != s.hbm_blocks)
      run.instance_samples.push_back(s);
    seen_[i] = true;
    last_[i] = s;
  }
  const auto& links = run.platform.all_links;
  link_last_.resize(links.size(), 0);
  for (std::size_t k = 0; k < links.size(); ++k) {
    const double utilization = links[k]->get_usage() / links[k]->get_bandwidth();
    if (utilization > 0 || link_last_[k] > 0) {
      results::LinkSample s;
      s.time = t;
      const std::string& name = links[k]->get_name();
      std::memcpy(s.link, name.data(), std::min(sizeof s.link - 1, name.size()));
      s.utilization = utilization;
      run.link_samples.push_back(s);
    }
    link_last_[k] = utilization;
  }
}

}  // namespace kvsim::engine
