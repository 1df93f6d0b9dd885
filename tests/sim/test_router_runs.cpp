// Routers over the real caches (sim/engine/router_view.cpp) in small two-node runs whose
// decisions follow by hand from the documented rules: which instances hold a prefix in HBM
// or in their node's DRAM, and what the engines would do with a lower-tier hit.
//
// Platform: two DGX H100 nodes (platform.nodes = 2), one instance per GPU filled node by
// node: instances 0-7 on node 0, 8 and up on node 1. Each node's DRAM takes a request's
// prompt blocks when it completes (kvcache.dram.admission = completion), so a prefix served
// on one node is found in that node's DRAM by all its instances and by none of the other's.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

const results::RequestRecord& row(const engine::RunOutput& out, std::uint64_t id) {
  for (const auto& r : out.requests)
    if (r.id == id) return r;
  FAIL("no request " << id);
  return out.requests.front();
}

// A request of input tokens in unique blocks (contents from `first`), output tokens out.
workload::Request filler(std::uint64_t id, double at, std::uint32_t input, std::uint32_t out) {
  return test::make_request(id, at, input, out, test::contents(100000 * (id + 1), (input + 15) / 16));
}

// The 40-block prefix A serves, then B: the same 40 blocks and 8 of its own.
constexpr std::uint32_t kPrefixBlocks = 40;
workload::Request prefix_a(std::uint64_t id, double at) {
  return test::make_request(id, at, kPrefixBlocks * 16, 2, test::contents(1, kPrefixBlocks));
}
workload::Request follower_b(std::uint64_t id, double at) {
  auto blocks = test::contents(1, kPrefixBlocks);
  for (std::uint64_t c = 0; c < 8; ++c) blocks.push_back(5000 + c);
  return test::make_request(id, at, (kPrefixBlocks + 8) * 16, 2, blocks);
}

}  // namespace

TEST_CASE("prefix_affinity over the real caches: a prefix only in the node's DRAM draws the request to that node") {
  // t = 0: A (no prefix anywhere, all idle) goes to the least loaded, instance 0, and
  // completes, leaving its 40 blocks in instance 0's HBM and in node 0's DRAM.
  // t = 10: fillers with unique prompts go each to the least loaded: F0 (17,016 outstanding
  // tokens) to 0, F1..F7 to 1..7 (1,016 each, F3 516), leaving instance 8 idle.
  // B, right after: instance 0 holds 40 blocks in HBM but exceeds the idle least loaded
  // (instance 8) by more than 16,384 tokens (and 17,016 > 2 x 0): no candidate. Instances
  // 1-7 find the 40 blocks in node 0's DRAM, within the bound: the least loaded of them, 3.
  // Without DRAM nobody but instance 0 holds anything, so B goes to the least loaded, 8.
  std::vector<workload::Request> requests{prefix_a(0, 0.0)};
  for (std::uint64_t k = 0; k < 8; ++k)
    requests.push_back(filler(1 + k, 10.0, 16, k == 0 ? 17000 : k == 3 ? 500 : 1000));
  requests.push_back(follower_b(9, 10.001));
  const std::vector<std::string> common{"platform.nodes=2", "instances.count=9", "routing.policy=prefix_affinity"};

  auto with_dram = common;
  with_dram.insert(with_dram.end(), {"kvcache.dram.capacity=16GiB", "kvcache.dram.admission=completion"});
  auto scenario = test::tiny_scenario(with_dram);
  const auto out = test::run_with(scenario, requests);
  CHECK(row(out, 0).instance == 0);
  for (std::uint64_t k = 0; k < 8; ++k) CHECK(row(out, 1 + k).instance == int(k));
  const auto& b = row(out, 9);
  CHECK(b.instance == 3);
  CHECK(b.dram_tokens == kPrefixBlocks * 16);  // the engine found (and loaded) them there

  auto plain = test::tiny_scenario(common);
  const auto cold = test::run_with(plain, requests);
  CHECK(row(cold, 9).instance == 8);

  // Engines that do not reuse prefixes (instances.prefix_caching = false) never look in
  // DRAM, whatever it holds: no instance has a hit, B goes to the least loaded, 8.
  auto no_reuse = with_dram;
  no_reuse.push_back("instances.prefix_caching=false");
  auto uncached = test::tiny_scenario(no_reuse);
  const auto blind = test::run_with(uncached, requests);
  CHECK(row(blind, 9).instance == 8);
  CHECK(row(blind, 9).cached_tokens == 0);
}

TEST_CASE("min_ttft over the real caches: a DRAM hit on an idle instance wins unless the engines always recompute") {
  // t = 0: fillers with unique prompts: F0 (300 output tokens) on instance 0, F1..F7 (3,000
  // each, running for many seconds) on 1..7, each to the smallest estimate (ties: the lower
  // index). A then goes to instance 8 (idle, cold like 9: the lower index) and completes,
  // leaving its 40 blocks in node 1's DRAM. t = 0.5: H (3,000 output tokens) goes to 8 (8
  // and 9 idle, 0 still busy with F0). t = 5: F0 has long finished, so for B instance 0 is
  // idle and cold, 8 is busy (its HBM holds the prefix, but its queue is ~0.1 s), 9 is idle
  // with the 40 blocks in its node's DRAM.
  //   auto:      9 = prefill of 128 tokens after 640 + a 84 MB load over PCIe (~1.3 ms)
  //              < 0 = prefill of 768 tokens                                   -> 9
  //   recompute: 9 = prefill of 768 tokens = 0, a tie                          -> 0
  std::vector<workload::Request> requests;
  for (std::uint64_t k = 0; k < 8; ++k) requests.push_back(filler(k, 0.0, 16, k == 0 ? 300 : 3000));
  requests.push_back(prefix_a(8, 0.0));
  requests.push_back(filler(9, 0.5, 16, 3000));
  requests.push_back(follower_b(10, 5.0));
  const std::vector<std::string> common{"platform.nodes=2", "instances.count=10", "routing.policy=min_ttft",
                                        "kvcache.dram.capacity=16GiB", "kvcache.dram.admission=completion"};

  auto scenario = test::tiny_scenario(common);
  const auto out = test::run_with(scenario, requests);
  for (std::uint64_t k = 0; k < 8; ++k) CHECK(row(out, k).instance == int(k));
  CHECK(row(out, 8).instance == 8);
  CHECK(row(out, 9).instance == 8);
  CHECK(row(out, 10).instance == 9);
  CHECK(row(out, 10).dram_tokens == kPrefixBlocks * 16);

  auto recompute = common;
  recompute.push_back("kvcache.load_vs_recompute=recompute");
  auto never_loads = test::tiny_scenario(recompute);
  const auto out2 = test::run_with(never_loads, requests);
  CHECK(row(out2, 9).instance == 8);
  CHECK(row(out2, 10).instance == 0);
}

TEST_CASE("prefix_affinity in a P/D run: the arrival router's indices are the prefill instances, whatever their place") {
  // Groups in this order: decode instances 0-1, then prefill instances 2-3; arrivals are
  // routed over [2, 3] (the router's 0 and 1). t = 0: F (one output token: it completes on
  // its prefill instance, no hand-off) goes to the least loaded, instance 2 (tie); A then
  // goes to 3 (2 holds F's prompt) and hands off to decode instance 0 (tie). t = 10: all
  // idle; B holds A's 40 blocks on instance 3's HBM only (the router's index 1), so it goes
  // there. Read with the run's own indices, router index 1 would be decode instance 1, which
  // holds nothing: B would go to the least loaded, instance 2.
  config::LoadOptions options;
  options.config_text = R"([platform]
node = "dgx-h100"
[model]
card = "llama-3.1-8b"
[[instances]]
name = "decode"
role = "decode"
count = 2
[[instances]]
name = "prefill"
role = "prefill"
count = 2
[routing]
policy = "prefix_affinity"
[workload]
generator = "chat"
num_requests = 1
[output]
path = ""
)";
  auto scenario = config::load_scenario(options);
  std::vector<workload::Request> requests{filler(0, 0.0, 640, 1), prefix_a(1, 0.0), follower_b(2, 10.0)};
  const auto out = test::run_with(scenario, requests);
  CHECK(row(out, 0).instance == 2);
  CHECK(row(out, 1).prefill_instance == 3);
  CHECK(row(out, 1).decode_instance == 0);
  CHECK(row(out, 2).prefill_instance == 3);
  CHECK(row(out, 2).hbm_tokens == kPrefixBlocks * 16);
}
