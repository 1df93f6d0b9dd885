// A load whose prefix lies partly in host DRAM and partly on the node's SSD, timed by
// SimGrid: both runs reach the GPU over its one PCIe link (the drive sits behind the CPU
// side, sim/engine/platform.cpp), so they share it. This is what the load-time estimate of
// models/kvcache/tier_hierarchy.cpp must add up (tests/unit/test_tier_cases.cpp).
//
// Set-up (Llama-3.1-8B: 131072 B of KV per token, 2 MiB per 16-token block; tp 1; PCIe
// 64 GB/s, 2 us; transfer_efficiency 1): DRAM of 40 MiB = 20 blocks takes finished prompts
// (completion); what it evicts goes to a 1 GiB SSD (demotion) with a 1 TB/s read link.
// Request A (instance 0) finishes a 40-block prompt: DRAM keeps its last 20 blocks and
// drops the first 20 to the SSD. B, on instance 1 at t = 100 s with the same 40 blocks and
// 8 new ones, finds blocks 0-19 on the SSD and 20-39 in DRAM and loads both at once.
#include <doctest/doctest.h>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

TEST_CASE("tier audit sim: DRAM and SSD runs of one load share the GPU's PCIe link") {
  auto scenario = test::tiny_scenario({"instances.count=2", "routing.policy=round_robin",
                                       "kvcache.dram.capacity=40MiB", "kvcache.dram.admission=completion",
                                       "kvcache.ssd.capacity=1GiB", "kvcache.ssd.read_bandwidth=1TB/s",
                                       "kvcache.transfer_efficiency=1", "kvcache.load_vs_recompute=load"});
  const double block = 16 * scenario.model.kv_bytes_per_token();
  REQUIRE(block == 2.0 * 1024 * 1024);
  std::vector<workload::Request> r{test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))};
  auto prompt = test::contents(1, 40);
  for (std::uint64_t c = 0; c < 8; ++c) prompt.push_back(5000 + c);
  r.push_back(test::make_request(1, 100.0, 48 * 16, 2, prompt));
  auto out = test::run_with(scenario, r);
  const auto& b = out.requests[1];
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(b.instance == 1);
  CHECK(b.ssd_tokens == 20 * 16);
  CHECK(b.dram_tokens == 20 * 16);
  // Two Comms of 20 blocks each over one 64 GB/s link: each gets 32 GB/s (the drive's
  // 1 TB/s does not bind), so both end at 2 us + 40 MiB / 32 GB/s = 2 us + 80 MiB / 64 GB/s.
  const double pcie = 64e9, latency = 2e-6;
  CHECK(b.load_wait == doctest::Approx(latency + 40 * block / pcie).epsilon(1e-9));
  // Not the 2 us + 40 MiB / 64 GB/s of each run alone.
  CHECK(b.load_wait > latency + 30 * block / pcie);
}
