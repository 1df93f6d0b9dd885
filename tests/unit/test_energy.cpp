// Energy and cost arithmetic, checked against figures worked out by hand.
#include <doctest/doctest.h>

#include "sim/engine/energy_account.hpp"
#include "sim/results/energy.hpp"

using namespace kvsim;

TEST_CASE("energy meter: idle power all run long, peak minus idle over the utilised step time") {
  results::EnergyMeter meter(2, 70.0, 700.0, 2, 100.0);
  meter.add_step(0, 0.0, 2.0, 0.5);
  meter.add_step(0, 4.0, 5.0, 1.0);
  const auto rows = meter.finish(10.0);
  REQUIRE(rows.size() == 2);
  // Instance 0: 2 GPUs, 140 W idle, 1400 W peak; busy 3 s, active 2·0.5 + 1·1 = 2 s:
  // 140·10 + (1400 − 140)·2 = 1400 + 2520 = 3920 J.
  CHECK(rows[0].gpus == 2);
  CHECK(rows[0].idle_watts == 140.0);
  CHECK(rows[0].peak_watts == 1400.0);
  CHECK(rows[0].busy == 3.0);
  CHECK(rows[0].active == 2.0);
  CHECK(rows[0].joules == doctest::Approx(3920.0));
  // Instance 1 never stepped: idle only, 1400 J.
  CHECK(rows[1].instance == 1);
  CHECK(rows[1].joules == doctest::Approx(1400.0));
}

TEST_CASE("energy time series: cumulative joules at the first step end past each sample time, and at the end") {
  // One GPU, 10 W idle, 110 W peak, samples every 1 s.
  results::EnergyMeter meter(1, 10.0, 110.0, 1, 1.0);
  meter.add_step(0, 0.0, 0.5, 1.0);  // ends before 1 s: no sample
  meter.add_step(0, 0.5, 1.5, 0.5);  // passes 1 s: sample at 1.5, active 0.5 + 0.5 = 1: 15 + 100 = 115 J
  meter.add_step(0, 1.5, 1.8, 1.0);  // next sample time 2 s not reached
  meter.add_step(0, 3.0, 3.2, 1.0);  // passes 2 s (and 3 s): sample at 3.2, active 1.5: 32 + 150 = 182 J
  const auto rows = meter.finish(5.0);  // final sample at 5 s: 50 + 150 = 200 J
  const auto samples = meter.take_samples();
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].time == 1.5);
  CHECK(samples[0].joules == doctest::Approx(115.0));
  CHECK(samples[1].time == 3.2);
  CHECK(samples[1].joules == doctest::Approx(182.0));
  CHECK(samples[2].time == 5.0);
  CHECK(samples[2].joules == doctest::Approx(200.0));
  CHECK(rows[0].joules == samples[2].joules);
}

TEST_CASE("energy time series: rows by time then instance, whatever order the instances account their steps in") {
  // Two instances, samples every 1 s. Instance 1 accounts its steps first (as when its
  // multi-step plan is applied before instance 0's), yet the rows interleave by time.
  results::EnergyMeter meter(2, 10.0, 110.0, 1, 1.0);
  meter.add_step(1, 0.0, 1.2, 1.0);  // sample (1.2, 1)
  meter.add_step(1, 1.2, 2.5, 1.0);  // sample (2.5, 1)
  meter.add_step(0, 0.0, 1.1, 1.0);  // sample (1.1, 0)
  meter.add_step(0, 1.1, 2.5, 1.0);  // sample (2.5, 0): same time as instance 1's, comes first
  meter.finish(3.0);                 // final samples (3, 0) and (3, 1)
  const auto samples = meter.take_samples();
  REQUIRE(samples.size() == 6);
  const double times[] = {1.1, 1.2, 2.5, 2.5, 3.0, 3.0};
  const std::uint32_t instances[] = {0, 1, 0, 1, 0, 1};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(samples[i].time == times[i]);
    CHECK(samples[i].instance == instances[i]);
  }
  // Instance 1 at 1.2 s: 10·1.2 + 100·1.2 = 132 J.
  CHECK(samples[1].joules == doctest::Approx(132.0));
}

TEST_CASE("energy figures and cost by hand") {
  std::vector<results::EnergyRecord> rows(2);
  rows[0].joules = 1000;
  rows[1].joules = 3000;
  const results::CostPrices prices{3.6, 0.036, 0.0036, 0.36};
  // 100 s = 1/36 h. GPUs 2·(1/36)·3.6 = 0.2; DRAM 100 GB·(1/36)·0.036 = 0.1; SSD 1000 GB·(1/36)·
  // 0.0036 = 0.1; energy 4000 J = 1/900 kWh·0.36 = 0.0004. Total 0.4004 for 2000 tokens.
  const auto f = results::energy_figures(rows, 100.0, prices, 2, 100e9, 1000e9, 2000);
  CHECK(f.joules == 4000.0);
  CHECK(f.average_watts == 40.0);
  CHECK(f.joules_per_output_token == 2.0);
  CHECK(f.cost == doctest::Approx(0.4004).epsilon(1e-12));
  CHECK(f.cost_per_million_tokens == doctest::Approx(200.2).epsilon(1e-12));
  // No tokens: per-token figures are 0, not infinite.
  const auto none = results::energy_figures(rows, 100.0, prices, 2, 0, 0, 0);
  CHECK(none.joules_per_output_token == 0);
  CHECK(none.cost_per_million_tokens == 0);
}

TEST_CASE("utilisation: the kernel share of a step, the CPU overhead idling the GPU") {
  compute::StepBreakdown b;
  b.linear = 2;
  b.attention = 0.5;
  b.allreduce = 0.5;
  b.overhead = 1;
  CHECK(engine::kernel_share(b) == 0.75);
  CHECK(engine::kernel_share(compute::StepBreakdown{}) == 0.0);
}
