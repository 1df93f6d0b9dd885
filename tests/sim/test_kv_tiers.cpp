// Timed KV tiers on a one-node platform: loads are SimGrid Comms whose times follow the
// CM02 model without cross-traffic (latency + bytes / bandwidth), they share links, and the
// load-vs-recompute rule picks the faster way to get a prefix into HBM.
//
// Set-up: two instances share the node's host DRAM, filled by write-through when a request
// completes. Request A (instance 0) completes; much later B, with the same first 40 blocks,
// arrives on instance 1 (round robin): B misses its HBM and finds the prefix in DRAM.
#include <doctest/doctest.h>

#include <numeric>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

std::vector<std::string> tier_overrides(std::vector<std::string> extra = {}) {
  std::vector<std::string> o{"instances.count=2", "routing.policy=round_robin", "kvcache.dram.capacity=16GiB",
                             "kvcache.dram.admission=completion", "kvcache.transfer_efficiency=1"};
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

// A at t=0 on instance 0; then followers on instance 1 (round robin alternates, so a filler
// request goes to instance 0 between followers).
std::vector<workload::Request> prefix_then(std::vector<double> arrivals) {
  std::vector<workload::Request> r{test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))};
  std::uint64_t id = 1;
  for (double t : arrivals) {
    auto prompt = test::contents(1, 40);
    for (std::uint64_t c = 0; c < 8; ++c) prompt.push_back(1000 * id + c);
    r.push_back(test::make_request(id++, t, 48 * 16, 2, prompt));
    r.push_back(test::make_request(id++, t, 16, 2, {7000 + id}));  // filler, instance 0
  }
  return r;
}

constexpr double kPcie = 64e9;      // H100-SXM card: PCIe Gen5 x16 per direction
constexpr double kLatency = 2e-6;   // dgx-h100 card: PCIe latency

}  // namespace

TEST_CASE("tiers: a DRAM load of B bytes over PCIe takes exactly B/W + latency") {
  auto scenario = test::tiny_scenario(tier_overrides({"kvcache.load_vs_recompute=load"}));
  auto out = test::run_with(scenario, prefix_then({100.0}));
  const auto& b = out.requests[1];
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(b.instance == 1);
  CHECK(b.hbm_tokens == 0);
  CHECK(b.dram_tokens == 40 * 16);
  CHECK(b.cached_tokens == 40 * 16);
  const double bytes = 40 * 16 * scenario.model.kv_bytes_per_token();
  CHECK(b.load_wait == doctest::Approx(bytes / kPcie + kLatency).epsilon(1e-9));
  // Then the prefill of the 8 new blocks after the 40 loaded ones.
  const double prefill = test::step_time(scenario, {{40 * 16, 8 * 16, true}});
  CHECK(b.ttft == doctest::Approx(bytes / kPcie + kLatency + prefill).epsilon(1e-9));
}

TEST_CASE("tiers: two concurrent loads over one PCIe link each take twice as long") {
  auto scenario = test::tiny_scenario(tier_overrides({"kvcache.load_vs_recompute=load", "instances.count=1"}));
  // One instance: A writes its prompt to DRAM when it completes; a filler that needs all
  // 1040 HBM blocks then evicts A's cached blocks, so the two followers arriving together
  // at t=100 find the prefix only in DRAM and load it at the same time over one link.
  std::vector<workload::Request> r{test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))};
  r.push_back(test::make_request(1, 50.0, 1039 * 16 + 1, 2, test::contents(50000, 1040)));
  for (std::uint64_t id = 2; id <= 3; ++id) {
    auto prompt = test::contents(1, 40);
    prompt.push_back(9000 + id);
    r.push_back(test::make_request(id, 100.0, 41 * 16, 2, prompt));
  }
  scenario.engine.num_blocks = 1040;
  auto out = test::run_with(scenario, r);
  const double bytes = 40 * 16 * scenario.model.kv_bytes_per_token();
  for (std::size_t i : {2u, 3u}) {
    const auto& q = out.requests[i];
    REQUIRE(q.status == results::RequestStatus::completed);
    CHECK(q.dram_tokens == 40 * 16);
    CHECK(q.load_wait == doctest::Approx(2 * bytes / kPcie + kLatency).epsilon(1e-9));
  }
}

TEST_CASE("tiers: with a fast link a DRAM prefix beats recomputing it") {
  auto scenario = test::tiny_scenario(tier_overrides());
  auto out = test::run_with(scenario, prefix_then({100.0}));
  const auto& b = out.requests[1];
  CHECK(b.dram_tokens == 40 * 16);
  const double recompute = test::step_time(scenario, {{0, 48 * 16, true}});
  CHECK(b.ttft < recompute);
}

TEST_CASE("tiers: with a slow link the prefix is recomputed instead of loaded") {
  auto scenario = test::tiny_scenario(tier_overrides({"platform.gpu_spec.pcie_bandwidth=0.5GB/s"}));
  auto out = test::run_with(scenario, prefix_then({100.0}));
  const auto& b = out.requests[1];
  CHECK(b.dram_tokens == 0);
  CHECK(b.cached_tokens == 0);
  CHECK(b.load_wait == 0);
  CHECK(b.ttft == doctest::Approx(test::step_time(scenario, {{0, 48 * 16, true}})).epsilon(1e-9));
}

TEST_CASE("tiers: evicted HBM blocks are demoted to DRAM and counted per tier") {
  // One instance with a tiny HBM: every new prompt evicts the previous one, which DRAM keeps.
  auto scenario = test::tiny_scenario({"instances.kv_blocks=64", "kvcache.dram.capacity=1GiB",
                                       "kvcache.transfer_efficiency=1", "kvcache.load_vs_recompute=load"});
  std::vector<workload::Request> r;
  for (std::uint64_t id = 0; id < 3; ++id) r.push_back(test::make_request(id, 10.0 * double(id), 40 * 16, 2, test::contents(100 * id, 40)));
  // The first prompt again: gone from HBM, found in DRAM.
  r.push_back(test::make_request(3, 30.0, 41 * 16, 2, [] {
    auto c = test::contents(0, 40);
    c.push_back(999);
    return c;
  }()));
  auto out = test::run_with(scenario, r);
  CHECK(out.requests[3].dram_tokens == 40 * 16);
  REQUIRE(out.tiers.size() == 2);  // the instance's HBM, the node's DRAM
  const auto& dram = out.tiers[1];
  CHECK(std::string(dram.tier) == "dram");
  CHECK(dram.written_blocks >= 40);
  CHECK(dram.loaded_blocks == 40);
  CHECK(dram.loaded_bytes == doctest::Approx(40 * 16 * scenario.model.kv_bytes_per_token()));
  CHECK(out.tiers[0].evicted_blocks >= 40);
  // Every transfer crossed the GPU's PCIe link, in one direction or the other.
  double pcie_bytes = 0;
  for (const auto& link : out.links) pcie_bytes += std::string(link.name).find("pcie") != std::string::npos ? link.bytes : 0;
  CHECK(pcie_bytes == doctest::Approx(double(dram.written_blocks + dram.loaded_blocks) * 16 *
                                      scenario.model.kv_bytes_per_token()));
}
