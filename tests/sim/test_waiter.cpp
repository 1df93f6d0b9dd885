// The waiter (sim/engine/waiter.hpp) while an instance waits on its transfers: an arrival
// must wake it at once (it cancels the doorbell Exec the instance waits on with them).
//
// Set-up as in test_kv_tiers.cpp: one instance, A writes its 40-block prompt to DRAM when it
// completes, a filler needing all 1040 HBM blocks evicts it, then B at t=100 finds the
// prefix only in DRAM and loads it over PCIe (40 blocks, ~1.3 ms). C, unrelated, arrives
// half-way through that load, while the instance has nothing to compute but waits on it.
#include <doctest/doctest.h>

#include <numeric>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

constexpr double kPcie = 64e9;     // H100-SXM card: PCIe Gen5 x16 per direction
constexpr double kLatency = 2e-6;  // dgx-h100 card: PCIe latency

}  // namespace

TEST_CASE("waiter: an arrival wakes an instance that waits on a load") {
  auto scenario = test::tiny_scenario({"kvcache.dram.capacity=16GiB", "kvcache.dram.admission=completion",
                                       "kvcache.transfer_efficiency=1", "kvcache.load_vs_recompute=load"});
  scenario.engine.num_blocks = 1040;
  const double load = 40 * 16 * scenario.model.kv_bytes_per_token() / kPcie + kLatency;
  const double c_arrival = 100.0 + load / 2;
  std::vector<workload::Request> r{test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))};
  r.push_back(test::make_request(1, 50.0, 1039 * 16 + 1, 2, test::contents(50000, 1040)));
  auto prompt = test::contents(1, 40);
  prompt.push_back(9000);
  r.push_back(test::make_request(2, 100.0, 41 * 16, 2, prompt));
  r.push_back(test::make_request(3, c_arrival, 16, 2, {77777}));
  auto out = test::run_with(scenario, r);

  const auto& b = out.requests[2];
  const auto& c = out.requests[3];
  REQUIRE(b.status == results::RequestStatus::completed);
  REQUIRE(c.status == results::RequestStatus::completed);
  REQUIRE(b.dram_tokens == 40 * 16);
  CHECK(b.load_wait == doctest::Approx(load).epsilon(1e-9));
  // C's prefill starts at its arrival, not when B's load ends: its first token comes after
  // one step of 16 new tokens alone.
  // (Without the wake-up it waited for the load: 8.84 ms instead of 7.97.)
  CHECK(c.ttft == doctest::Approx(test::step_time(scenario, {{0, 16, true}})).epsilon(1e-9));
}
