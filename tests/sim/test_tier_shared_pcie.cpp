// Loads from the tiers below HBM timed by SimGrid, against times worked out by hand from
// the platform (sim/engine/platform.cpp): an SSD load (drive read link, then PCIe), a
// remote load (server NIC, then GPU NIC), and a load whose prefix lies partly in DRAM and
// partly on the SSD, whose two runs share the GPU's one PCIe link (the drive sits behind
// the CPU side); the load-time estimate of models/kvcache/tier_hierarchy.cpp must add
// those up (tests/unit/test_tier_cases.cpp).
//
// Llama-3.1-8B: 131072 B of KV per token, 2 MiB per 16-token block; tp 1; PCIe 64 GB/s,
// 2 us; transfer_efficiency 1; two instances, round robin.
#include <doctest/doctest.h>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {
// A finishes a 40-block prompt on instance 0 (written through to the tier under test); B,
// on instance 1 at t = 100 s with the same 40 blocks and 8 new ones, loads all 40 from it.
engine::RunOutput prompt_then_reuse(config::Scenario& scenario) {
  std::vector<workload::Request> r{test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))};
  auto prompt = test::contents(1, 40);
  for (std::uint64_t c = 0; c < 8; ++c) prompt.push_back(5000 + c);
  r.push_back(test::make_request(1, 100.0, 48 * 16, 2, prompt));
  return test::run_with(scenario, r);
}
}  // namespace

TEST_CASE("tier audit sim: DRAM and SSD runs of one load share the GPU's PCIe link") {
  // DRAM of 40 MiB = 20 blocks takes finished prompts (completion); what it evicts goes to a
  // 1 GiB SSD (demotion) with a 1 TB/s read link. A's 40 blocks: DRAM keeps the last 20 and
  // drops the first 20 to the SSD, so B finds blocks 0-19 on the SSD, 20-39 in DRAM.
  auto scenario = test::tiny_scenario({"instances.count=2", "routing.policy=round_robin",
                                       "kvcache.dram.capacity=40MiB", "kvcache.dram.admission=completion",
                                       "kvcache.ssd.capacity=1GiB", "kvcache.ssd.read_bandwidth=1TB/s",
                                       "kvcache.transfer_efficiency=1", "kvcache.load_vs_recompute=load"});
  const double block = 16 * scenario.model.kv_bytes_per_token();
  REQUIRE(block == 2.0 * 1024 * 1024);
  const auto out = prompt_then_reuse(scenario);
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

TEST_CASE("tier audit sim: an SSD load is bound by the drive's read link, then crosses PCIe") {
  // 40 blocks = 80 MiB off a 7 GB/s drive (slower than the 64 GB/s PCIe link behind it):
  // 80 MiB / 7 GB/s, + the PCIe latency (the drive's link has none).
  auto scenario = test::tiny_scenario({"instances.count=2", "routing.policy=round_robin",
                                       "kvcache.ssd.capacity=1GiB", "kvcache.ssd.admission=completion",
                                       "kvcache.ssd.read_bandwidth=7GB/s", "kvcache.transfer_efficiency=1",
                                       "kvcache.load_vs_recompute=load"});
  const double block = 16 * scenario.model.kv_bytes_per_token();
  const auto out = prompt_then_reuse(scenario);
  const auto& b = out.requests[1];
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(b.ssd_tokens == 40 * 16);
  CHECK(b.load_wait == doctest::Approx(2e-6 + 40 * block / 7e9).epsilon(1e-9));
}

TEST_CASE("tier audit sim: a remote load crosses the memory server's NIC and the GPU's NIC, both latencies added") {
  // One memory server at 25 GB/s (5 us), the GPU's ConnectX-7 at 400 Gbps = 50 GB/s (5 us):
  // 80 MiB at the server's 25 GB/s, + 10 us.
  auto scenario = test::tiny_scenario({"instances.count=2", "routing.policy=round_robin",
                                       "kvcache.remote.capacity=1GiB", "kvcache.remote.admission=completion",
                                       "kvcache.remote.nic_bandwidth=25GB/s", "kvcache.remote.nic_latency=5us",
                                       "kvcache.transfer_efficiency=1", "kvcache.load_vs_recompute=load"});
  const double block = 16 * scenario.model.kv_bytes_per_token();
  const auto out = prompt_then_reuse(scenario);
  const auto& b = out.requests[1];
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(b.remote_tokens == 40 * 16);
  CHECK(b.load_wait == doctest::Approx(10e-6 + 40 * block / 25e9).epsilon(1e-9));
}

TEST_CASE("tier audit sim: two instances loading from the node's SSD at once share the drive") {
  // Three instances (round robin): A on instance 0 writes its 40 blocks to the SSD; B and C
  // arrive together on instances 1 and 2 and load the same 80 MiB each: the two Comms share
  // the 7 GB/s drive, each ending at 2 us + 160 MiB / 7 GB/s.
  auto scenario = test::tiny_scenario({"instances.count=3", "routing.policy=round_robin",
                                       "kvcache.ssd.capacity=1GiB", "kvcache.ssd.admission=completion",
                                       "kvcache.ssd.read_bandwidth=7GB/s", "kvcache.transfer_efficiency=1",
                                       "kvcache.load_vs_recompute=load"});
  const double block = 16 * scenario.model.kv_bytes_per_token();
  std::vector<workload::Request> r{test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))};
  for (std::uint64_t id = 1; id <= 2; ++id) {
    auto prompt = test::contents(1, 40);
    prompt.push_back(5000 + id);
    r.push_back(test::make_request(id, 100.0, 41 * 16, 2, prompt));
  }
  const auto out = test::run_with(scenario, r);
  for (std::size_t i : {1u, 2u}) {
    const auto& q = out.requests[i];
    REQUIRE(q.status == results::RequestStatus::completed);
    CHECK(q.instance == int(i));
    CHECK(q.ssd_tokens == 40 * 16);
    CHECK(q.load_wait == doctest::Approx(2e-6 + 80 * block / 7e9).epsilon(1e-9));
  }
}
