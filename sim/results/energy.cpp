#include "sim/results/energy.hpp"

namespace kvsim::results {

std::vector<EnergyRecord> EnergyMeter::finish(double duration, double idle_watts, double peak_watts,
                                              std::uint32_t gpus) const {
  std::vector<EnergyRecord> rows;
  for (std::size_t i = 0; i < busy_.size(); ++i) {
    EnergyRecord r;
    r.instance = static_cast<std::int32_t>(i);
    r.gpus = gpus;
    r.idle_watts = idle_watts * gpus;
    r.peak_watts = peak_watts * gpus;
    r.busy = busy_[i];
    r.active = active_[i];
    r.joules = r.idle_watts * duration + (r.peak_watts - r.idle_watts) * r.active;
    rows.push_back(r);
  }
  return rows;
}

EnergyFigures energy_figures(std::span<const EnergyRecord> instances, double duration, const CostPrices& prices,
                             double gpus, double dram_bytes, double ssd_bytes, double output_tokens) {
  EnergyFigures f;
  for (const EnergyRecord& r : instances) f.joules += r.joules;
  f.average_watts = duration > 0 ? f.joules / duration : 0.0;
  const double hours = duration / 3600.0;
  f.cost = gpus * hours * prices.gpu_hour + dram_bytes / 1e9 * hours * prices.dram_gb_hour +
           ssd_bytes / 1e9 * hours * prices.ssd_gb_hour + f.joules / 3.6e6 * prices.kwh;
  if (output_tokens > 0) {
    f.joules_per_output_token = f.joules / output_tokens;
    f.cost_per_million_tokens = f.cost / output_tokens * 1e6;
  }
  return f;
}

}  // namespace kvsim::results
