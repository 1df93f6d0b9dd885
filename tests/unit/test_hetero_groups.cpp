// Heterogeneous [[instances]] groups: each group's own model and GPU kind, its KV cache
// sized from its own cards (checked against sizes computed by hand from the card figures),
// the placement selectors, and the errors (model too large for its GPU, unknown selector,
// mixed block sizes, mixed models with shared lower tiers).
#include <doctest/doctest.h>

#include <string>

#include "sim/config/scenario.hpp"
#include "sim/util/error.hpp"

using namespace kvsim;

namespace {

config::Scenario load(const std::string& text) {
  config::LoadOptions options;
  options.config_text = text;
  options.output = "";
  return config::load_scenario(options);
}

// Two DGX H100 and one HGX H200 (platforms/clusters/h100-h200-mixed.toml).
const std::string kMixed = "[platform]\ncluster = \"h100-h200-mixed\"\n";

}  // namespace

TEST_CASE("hetero groups: an H200 group gets the KV blocks of its card, more than an H100 group") {
  const auto s = load(kMixed + R"([[instances]]
name = "on-h100"
count = 2
activation_reserve = "4GiB"
[[instances]]
name = "on-h200"
gpu = "h200"
count = 1
activation_reserve = "4GiB"
)");
  REQUIRE(s.groups.size() == 2);
  CHECK(s.groups[0].gpu.name == "h100-sxm");
  CHECK(s.groups[1].gpu.name == "h200");
  // Llama-3.1-8B from its card: per layer q 4096x4096, k and v 4096x1024 each, o
  // 4096x4096, SwiGLU 3 x 4096x14336 = 218,103,808 params; x 32 layers = 6,979,321,856;
  // embedding and untied LM head 2 x 4096 x 128256 = 1,050,673,152; total 8,029,995,008
  // params = 16,059,990,016 B in BF16. A 16-token block holds 16 x 2 (K, V) x 32 layers x
  // 8 KV heads x 128 x 2 B = 2,097,152 B.
  //   H100: (81559 MiB x 0.9 - 4 GiB - weights) / block = 26,995.55 -> 26,995 blocks
  //   H200: (143771 MiB x 0.9 - 4 GiB - weights) / block = 54,990.95 -> 54,990 blocks
  CHECK(s.groups[0].engine.num_blocks == 26995);
  CHECK(s.groups[1].engine.num_blocks == 54990);
  // H100 nodes 0 and 1 come first; the H200 group lands on node 2.
  CHECK(s.placement[0].node == 0);
  CHECK(s.placement[1].node == 0);
  CHECK(s.placement[1].first_gpu == 1);
  CHECK(s.placement[2].node == 2);
  CHECK(s.placement[2].first_gpu == 0);
  // The step-time model of each group is calibrated for its own GPU.
  CHECK(s.groups[0].compute.calibration == "h100-sxm");
  CHECK(s.groups[1].compute.calibration == "h200");
}

TEST_CASE("hetero groups: a group serves its own model, sized from that model's card") {
  const auto s = load(kMixed + R"([[instances]]
name = "llama"
count = 1
activation_reserve = "4GiB"
[[instances]]
name = "qwen"
model = "qwen2.5-7b"
node_group = "h200"
count = 1
activation_reserve = "4GiB"
)");
  CHECK(s.groups[0].model.name == "llama-3.1-8b");
  CHECK(s.groups[1].model.name == "qwen2.5-7b");
  // Qwen2.5-7B: 28 layers of 3584x3584 (q, o), 2 x 3584x512 (k, v), 3 x 3584x18944
  // (SwiGLU) = 7,615,283,200 params with embedding and untied head (2 x 3584 x 152064);
  // 15,230,566,400 B. Block: 16 x 2 x 28 layers x 4 KV heads x 128 x 2 B = 917,504 B.
  //   H200: (143771 MiB x 0.9 - 4 GiB - weights) / block = 126,597.6 -> 126,597 blocks
  CHECK(s.groups[1].engine.num_blocks == 126597);
  CHECK(s.placement[1].node == 2);
  // The scenario's [model] stays Llama; the resolved config names Qwen on its group.
  CHECK(s.model.name == "llama-3.1-8b");
  CHECK(s.resolved_toml.find("model = \"qwen2.5-7b\"") != std::string::npos);
  CHECK(s.resolved_toml.find("card = \"llama-3.1-8b\"") != std::string::npos);
}

TEST_CASE("hetero groups: without a selector a group takes the GPU kind of the first node with room") {
  // Group a fills both H100 nodes (two instances at tp=8); b then lands on the H200 node.
  const auto s = load(kMixed + "[[instances]]\nname = \"a\"\ncount = 2\ntp = 8\n"
                               "[[instances]]\nname = \"b\"\ncount = 2\ntp = 4\n");
  CHECK(s.groups[1].gpu.name == "h200");
  CHECK(s.placement[2].node == 2);
  CHECK(s.placement[3].node == 2);
  CHECK(s.placement[3].first_gpu == 4);
}

TEST_CASE("hetero groups: a group never spans GPU kinds and reports its shortage on its kind") {
  // 20 single-GPU instances: 16 H100 GPUs exist, the H200 node's GPUs are another kind.
  CHECK_THROWS_WITH_AS(load(kMixed + "[[instances]]\nname = \"wide\"\ncount = 20\ntp = 1\n"),
                       doctest::Contains("do not fit on the cluster's h100-sxm nodes"), InputError);
}

TEST_CASE("hetero groups: a model too large for its GPU names the group, model, GPU and figures") {
  CHECK_THROWS_WITH_AS(load(kMixed + "[[instances]]\ncount = 1\n[[instances]]\nname = \"big\"\n"
                                     "model = \"llama-3.1-70b\"\ngpu = \"h200\"\ncount = 1\ntp = 1\n"),
                       doctest::Contains("<text>:10: instances.tp: group \"big\": model llama-3.1-70b does not fit"),
                       InputError);
  try {
    load(kMixed + "[[instances]]\ncount = 1\n[[instances]]\nname = \"big\"\nmodel = \"llama-3.1-70b\"\ngpu = \"h200\"\ncount = 1\n");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("each h200 offers") != std::string::npos);
    CHECK(what.find("of weights per GPU at tp=1") != std::string::npos);
  }
  // tp beyond the GPUs of the group's nodes.
  CHECK_THROWS_WITH_AS(load(kMixed + "[[instances]]\nname = \"huge\"\ngpu = \"h200\"\ncount = 1\ntp = 16\n"),
                       doctest::Contains("group \"huge\": tp=16 does not divide the 8 GPUs of a hgx-h200 node"),
                       InputError);
}

TEST_CASE("hetero groups: unknown selectors list what the cluster has") {
  CHECK_THROWS_WITH_AS(load(kMixed + "[[instances]]\ncount = 1\nnode_group = \"b200\"\n"),
                       doctest::Contains("<text>:3: instances[0].node_group: group \"group0\": no node group \"b200\" in the cluster; "
                                         "its node groups: \"h100\", \"h200\""),
                       InputError);
  CHECK_THROWS_WITH_AS(load(kMixed + "[[instances]]\ncount = 1\ngpu = \"a100-80gb\"\n"),
                       doctest::Contains("no node of the cluster has GPU \"a100-80gb\"; its GPUs: \"h100-sxm\", \"h200\""),
                       InputError);
}

TEST_CASE("hetero groups: every group uses the same block_size") {
  CHECK_THROWS_WITH_AS(load("[[instances]]\ncount = 1\n[[instances]]\ncount = 1\nblock_size = 32\n"),
                       doctest::Contains("<text>:3: instances[1].block_size: group \"group1\" has block_size 32"),
                       InputError);
}

TEST_CASE("hetero groups: lower KV tiers with two models are refused (blocks are keyed by tokens only)") {
  CHECK_THROWS_WITH_AS(load(kMixed + R"([[instances]]
count = 1
[[instances]]
name = "qwen"
model = "qwen2.5-7b"
count = 1
[kvcache.dram]
capacity = "64GiB"
)"),
                       doctest::Contains("instances[1].model: group \"qwen\" serves qwen2.5-7b but group \"group0\" "
                                         "serves llama-3.1-8b"),
                       InputError);
  // One model on two GPU kinds with lower tiers is fine.
  const auto s = load(kMixed + "[[instances]]\ncount = 1\n[[instances]]\ngpu = \"h200\"\ncount = 1\n"
                               "[kvcache.dram]\ncapacity = \"64GiB\"\n");
  CHECK(s.groups[1].gpu.name == "h200");
}
