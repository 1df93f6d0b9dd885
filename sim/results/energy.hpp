// Energy and cost of a run. Pure arithmetic over what the engine accounts per step.
//
// Model (README "Energy and cost"): an instance of g GPUs draws g x idle_watts all run long,
// and g x (tdp - idle_watts) more while its GPUs run kernels:
//   E = g·P_idle·T + g·(P_peak − P_idle)·Σ_steps d_s·u_s
// T = the run's simulated duration, d_s a step's duration and u_s its utilisation: the
// share of the step the GPUs run kernels (every operator of the step-time breakdown but the
// CPU overhead, sim/engine/energy_account.hpp). Memory-bound kernels (decode) are charged
// like compute-bound ones, so busy power is an upper bound; lower platform.gpu_spec.tdp to
// the power measured under your load to calibrate.
//
// Cost (optional prices, [cost]): GPU-hours of the serving GPUs, GB-hours (1 GB = 1e9 B) of
// the DRAM and SSD KV tiers, and kWh of the GPUs' energy, over the simulated duration.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace kvsim::results {

// One row of /energy: one serving instance.
struct EnergyRecord {
  std::int32_t instance = 0;
  std::uint32_t gpus = 0;
  double idle_watts = 0;  // W, all its GPUs
  double peak_watts = 0;  // W, all its GPUs (TDP)
  double busy = 0;        // s with a step running
  double active = 0;      // s, Σ step duration x utilisation
  double joules = 0;      // J over the run
};

// One row of /timeseries/energy: an instance's energy since the start of the run.
struct EnergySample {
  double time = 0;             // s
  std::uint32_t instance = 0;
  double joules = 0;           // J from 0 to time
};

// Σ d_s and Σ d_s·u_s per instance, fed one step at a time in time order per instance, and
// the cumulative energy of each instance at the end of its first step past every multiple
// of the sample interval (and at the end of the run).
class EnergyMeter {
 public:
  EnergyMeter() = default;
  // Per-GPU idle and peak power, GPUs per instance, sample interval (s, > 0).
  EnergyMeter(std::size_t instances, double idle_watts, double peak_watts, std::uint32_t gpus, double interval);
  // Heterogeneous runs: instance's own per-GPU idle and peak power and GPU count.
  void set_instance_power(std::size_t instance, double idle_watts, double peak_watts, std::uint32_t gpus);
  void add_step(std::size_t instance, double start, double end, double utilisation);
  // Instance rows over a run of the given duration (and the final samples).
  std::vector<EnergyRecord> finish(double duration);
  // Samples by time, then instance (an instance's own rows in the order taken). Instances
  // account their steps when their plans are applied, which multi-step planning moves: the
  // order taken would make the dataset depend on it.
  std::vector<EnergySample> take_samples();

 private:
  double joules_at(std::size_t instance, double time) const;
  std::vector<double> busy_, active_, next_sample_;
  std::vector<double> idle_watts_, peak_watts_;  // W per instance, all its GPUs
  std::vector<std::uint32_t> gpus_;
  double interval_ = 1;
  std::vector<EnergySample> samples_;
};

struct CostPrices {
  double gpu_hour = 0;     // per GPU-hour
  double dram_gb_hour = 0; // per GB-hour of DRAM KV tier
  double ssd_gb_hour = 0;  // per GB-hour of SSD KV tier
  double kwh = 0;          // per kWh
};

struct EnergyFigures {
  double joules = 0;                    // J, all instances
  double average_watts = 0;             // W, joules / duration
  double joules_per_output_token = 0;   // J, joules / output tokens (0 without tokens)
  double cost = 0;                      // currency units of the prices
  double cost_per_million_tokens = 0;   // cost / output tokens x 1e6 (0 without tokens)
};

// gpus: serving GPUs; dram_bytes, ssd_bytes: KV tier capacity over all their stores;
// output_tokens: of every completed request of the run.
EnergyFigures energy_figures(std::span<const EnergyRecord> instances, double duration, const CostPrices& prices,
                             double gpus, double dram_bytes, double ssd_bytes, double output_tokens);

}  // namespace kvsim::results
