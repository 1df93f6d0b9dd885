#include "sim/results/energy.hpp"

#include <algorithm>
#include <cmath>

namespace kvsim::results {

EnergyMeter::EnergyMeter(std::size_t instances, double idle_watts, double peak_watts, std::uint32_t gpus,
                         double interval)
    : busy_(instances, 0.0),
      active_(instances, 0.0),
      next_sample_(instances, interval),
      idle_watts_(instances, idle_watts * gpus),
      peak_watts_(instances, peak_watts * gpus),
      gpus_(instances, gpus),
      interval_(interval) {}

void EnergyMeter::set_instance_power(std::size_t i, double idle_watts, double peak_watts, std::uint32_t gpus) {
  idle_watts_[i] = idle_watts * gpus;
  peak_watts_[i] = peak_watts * gpus;
  gpus_[i] = gpus;
}

double EnergyMeter::joules_at(std::size_t i, double time) const {
  return idle_watts_[i] * time + (peak_watts_[i] - idle_watts_[i]) * active_[i];
}

void EnergyMeter::add_step(std::size_t i, double start, double end, double utilisation) {
  busy_[i] += end - start;
  active_[i] += (end - start) * utilisation;
  if (end >= next_sample_[i]) {
    samples_.push_back({end, static_cast<std::uint32_t>(i), joules_at(i, end)});
    next_sample_[i] = (std::floor(end / interval_) + 1) * interval_;
  }
}

std::vector<EnergySample> EnergyMeter::take_samples() {
  std::stable_sort(samples_.begin(), samples_.end(), [](const EnergySample& a, const EnergySample& b) {
    return a.time < b.time || (a.time == b.time && a.instance < b.instance);
  });
  return std::move(samples_);
}

std::vector<EnergyRecord> EnergyMeter::finish(double duration) {
  std::vector<EnergyRecord> rows;
  for (std::size_t i = 0; i < busy_.size(); ++i) {
    EnergyRecord r;
    r.instance = static_cast<std::int32_t>(i);
    r.gpus = gpus_[i];
    r.idle_watts = idle_watts_[i];
    r.peak_watts = peak_watts_[i];
    r.busy = busy_[i];
    r.active = active_[i];
    r.joules = joules_at(i, duration);
    rows.push_back(r);
    samples_.push_back({duration, static_cast<std::uint32_t>(i), r.joules});
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
