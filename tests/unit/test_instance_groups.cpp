// [[instances]] groups: per-group tp and batching knobs, node-by-node placement across
// groups, the roles not yet supported, and the old single [instances] table unchanged.
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

}  // namespace

TEST_CASE("instance groups: own tp and knobs, placed node by node in the order written") {
  const auto s = load(R"([platform]
nodes = 2
[[instances]]
name = "big"
count = 3
tp = 4
max_num_seqs = 64
[[instances]]
name = "small"
count = 3
tp = 1
max_num_batched_tokens = 2048
)");
  REQUIRE(s.groups.size() == 2);
  CHECK(s.groups[0].name == "big");
  CHECK(s.groups[0].tp == 4);
  CHECK(s.groups[0].engine.max_num_seqs == 64);
  CHECK(s.groups[1].engine.max_num_batched_tokens == 2048);
  CHECK(s.groups[1].engine.max_num_seqs == 256);  // the default
  CHECK(s.instances == 6);
  CHECK(s.instance_group == std::vector<int>{0, 0, 0, 1, 1, 1});
  // big: node 0 GPUs 0-3, node 0 GPUs 4-7, node 1 GPUs 0-3; small: node 1 GPUs 4, 5, 6.
  const std::vector<std::pair<int, int>> expected{{0, 0}, {0, 4}, {1, 0}, {1, 4}, {1, 5}, {1, 6}};
  REQUIRE(s.placement.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(s.placement[i].node == expected[i].first);
    CHECK(s.placement[i].first_gpu == expected[i].second);
  }
  // The resolved config lists both groups with their defaults filled in.
  CHECK(s.resolved_toml.find("instances = [{") != std::string::npos);
  CHECK(s.resolved_toml.find("name = \"small\"") != std::string::npos);
}

TEST_CASE("instance groups: a group that does not fit after the others is an error at its count") {
  CHECK_THROWS_WITH_AS(load(R"([[instances]]
count = 6
tp = 1
[[instances]]
name = "late"
count = 1
tp = 4
)"),
                       doctest::Contains("<text>:4: instances[1].count: group \"late\" does not fit"), InputError);
}

TEST_CASE("instance groups: a decode group needs a prefill group, errors keep the group's line") {
  CHECK_THROWS_WITH_AS(load("[[instances]]\ncount = 1\n[[instances]]\ncount = 1\nrole = \"decode\"\n"),
                       doctest::Contains("<text>:5: instances[1].role: a \"decode\" group needs at least one \"prefill\""),
                       InputError);
  // With both sides the scenario is disaggregated, the prefill side's engine prefill-only,
  // and the decode router defaults to least_loaded.
  const auto pd = load("[[instances]]\ncount = 1\nrole = \"prefill\"\n[[instances]]\ncount = 2\nrole = \"decode\"\n");
  CHECK(pd.disaggregated());
  CHECK(pd.groups[0].engine.prefill_only);
  CHECK_FALSE(pd.groups[1].engine.prefill_only);
  CHECK(pd.decode_router == "least_loaded");
  CHECK(pd.resolved_toml.find("[routing.decode]") != std::string::npos);
  // Keys of [instances] are checked per group as usual, at the group's line.
  CHECK_THROWS_WITH_AS(load("[[instances]]\ncount = 1\n[[instances]]\ncount = 1\nmax_num_seq = 4\n"),
                       doctest::Contains("<text>:5"), InputError);
}

TEST_CASE("the single `instances` table has no groups and the old placement") {
  const auto s = load("[instances]\ncount = 4\ntp = 2\n");
  CHECK(s.groups.empty());
  REQUIRE(s.placement.size() == 4);
  CHECK(s.placement[3].first_gpu == 6);
}
