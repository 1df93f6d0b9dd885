// Cluster fabrics (platforms/topology) and cluster cards (sim/config/cluster_card): routes
// between switches on a small leaf-spine and an explicit graph against hand-computed hops,
// the rejection of a disconnected card and of a zero-bandwidth link (naming card, line and
// element), and the node-by-node placement of instances.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "platforms/topology/fabric.hpp"
#include "sim/config/cluster_card.hpp"
#include "sim/config/scenario.hpp"
#include "sim/util/error.hpp"

using namespace kvsim;

namespace {

// A card file in a fresh temporary directory (removed at the end of the test).
struct CardFile {
  std::filesystem::path dir;
  std::string path;
  explicit CardFile(const std::string& text) {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() / ("kvsim_topology_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    std::filesystem::create_directories(dir);
    path = (dir / "card.toml").string();
    std::ofstream(path) << text;
  }
  ~CardFile() { std::filesystem::remove_all(dir); }
};

config::Scenario load_with_card(const std::string& card_path, std::vector<std::string> overrides = {}) {
  config::LoadOptions options;
  options.config_text = "[platform]\ncluster = \"" + card_path + "\"\n[instances]\ncount = 1\n";
  options.overrides = std::move(overrides);
  options.output = "";
  return config::load_scenario(options);
}

}  // namespace

TEST_CASE("leaf-spine: uplinks are the leaf's NIC bandwidth over the oversubscription, routes cross both uplinks") {
  // Five nodes of 8 GPUs at 50 GB/s per NIC, two per leaf: leaves 0 and 1 carry 800 GB/s of
  // NICs, leaf 2 (one node) 400 GB/s; oversubscription 4 gives uplinks of 200, 200, 100 GB/s.
  const std::vector<double> nic(5, 8 * 50e9);
  const auto f = topology::make_leaf_spine(nic, 2, 4.0, 1e-6);
  REQUIRE(f.switches.size() == 4);  // spine, leaf0..2
  CHECK(f.switches[0].name == "spine");
  CHECK(f.node_switch == std::vector<std::size_t>{1, 1, 2, 2, 3});
  REQUIRE(f.links.size() == 3);
  CHECK(f.links[0].bandwidth == doctest::Approx(200e9));
  CHECK(f.links[2].bandwidth == doctest::Approx(100e9));
  topology::validate(f, "test");
  const auto routes = topology::routes_from(f, 1);  // from leaf0
  CHECK(routes[1].empty());
  // leaf0 → spine → leaf2: up leaf0's uplink, down leaf2's.
  REQUIRE(routes[3].size() == 2);
  CHECK(routes[3][0].link == 0);
  CHECK(routes[3][0].up);
  CHECK(routes[3][1].link == 2);
  CHECK_FALSE(routes[3][1].up);
  CHECK(f.attached(true) == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(f.attached(false) == std::vector<std::size_t>{1, 2, 3});
}

TEST_CASE("graph fabric: routes take the lower-weight path, not the fewer hops") {
  // a—b direct at 1 GB/s, or a—c—b at 100 GB/s each: 1 MiB costs 1.05 ms direct, about
  // 21 us through c (plus 2 x 1 us latency), so the route goes through c.
  topology::Fabric f;
  f.kind = "graph";
  f.switches = {{"a", 1}, {"b", 2}, {"c", 3}};
  f.links = {{"a-b", 0, 1, 1e9, 1e-6, 4}, {"a-c", 0, 2, 100e9, 1e-6, 5}, {"c-b", 2, 1, 100e9, 1e-6, 6}};
  f.node_switch = {0, 1};
  topology::validate(f, "test");
  const auto routes = topology::routes_from(f, 0);
  REQUIRE(routes[1].size() == 2);
  CHECK(routes[1][0].link == 1);
  CHECK(routes[1][0].up);
  CHECK(routes[1][1].link == 2);
  CHECK(routes[1][1].up);
  // Back from b: c-b traversed b → c is its DOWN direction.
  const auto back = topology::routes_from(f, 1);
  CHECK(back[0][0].link == 2);
  CHECK_FALSE(back[0][0].up);
}

TEST_CASE("a disconnected graph card is rejected naming the card, line and switch") {
  const CardFile card(R"(name = "broken"
[[node_groups]]
node = "dgx-h100"
count = 2
switch = ["a", "b"]
[network]
topology = "graph"
[[network.switches]]
name = "a"
[[network.switches]]
name = "b"
[[network.switches]]
name = "island"
[[network.links]]
from = "a"
to = "b"
bandwidth = "100GB/s"
)");
  try {
    load_with_card(card.path);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.file() == card.path);
    CHECK(e.line() == 12);
    CHECK(e.field() == "switch \"island\"");
    CHECK(std::string(e.what()).find("not connected") != std::string::npos);
  }
}

TEST_CASE("a zero-bandwidth link is rejected naming the card, line and link") {
  const CardFile card(R"(name = "slow"
[[node_groups]]
node = "dgx-h100"
count = 2
switch = ["a", "b"]
[network]
topology = "graph"
[[network.switches]]
name = "a"
[[network.switches]]
name = "b"
[[network.links]]
name = "trunk"
from = "a"
to = "b"
bandwidth = "0GB/s"
)");
  try {
    load_with_card(card.path);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.file() == card.path);
    CHECK(e.line() == 12);
    CHECK(e.field() == "link \"trunk\"");
    CHECK(std::string(e.what()).find("bandwidth must be positive") != std::string::npos);
  }
}

TEST_CASE("a node group on an unknown switch is an error at its switch key") {
  const CardFile card(R"(name = "typo"
[[node_groups]]
node = "dgx-h100"
count = 1
switch = "leaf9"
[network]
topology = "graph"
[[network.switches]]
name = "leaf0"
)");
  CHECK_THROWS_WITH_AS(load_with_card(card.path), doctest::Contains("node_groups[0].switch: unknown switch \"leaf9\""),
                       InputError);
}

TEST_CASE("heterogeneous groups: nodes numbered in group order with their own cards, graph nodes fill switches evenly") {
  const CardFile card(R"(name = "mixed"
[[node_groups]]
node = "dgx-h100"
count = 4
switch = ["s0", "s1"]
[[node_groups]]
node = "hgx-h200"
count = 1
switch = "s1"
nic_bandwidth = "200Gbps"
[network]
topology = "graph"
[[network.switches]]
name = "s0"
[[network.switches]]
name = "s1"
[[network.links]]
from = "s0"
to = "s1"
bandwidth = "1TB/s"
latency = "1us"
)");
  // One [instances] table needs one GPU kind: read the card alone.
  auto context = std::make_shared<config::ReadContext>();
  const toml::table empty;
  config::Section at(&empty, "platform", context);
  struct {
    config::ClusterSpec cluster;
  } s{config::read_cluster_card(at, "cluster", card.path, ".")};
  REQUIRE(s.cluster.nodes() == 5);
  CHECK(s.cluster.group_of(3).gpu.name == "h100-sxm");
  CHECK(s.cluster.group_of(4).gpu.name == "h200");
  CHECK(s.cluster.group_of(4).node.nic_bandwidth == doctest::Approx(25e9));
  CHECK(s.cluster.fabric.node_switch == std::vector<std::size_t>{0, 0, 1, 1, 1});
  CHECK(s.cluster.total_gpus() == 40);
}

TEST_CASE("instances are placed node by node and never across nodes") {
  config::NodeSpec node;
  node.gpus = 8;
  const auto cluster = config::identical_nodes(node, {}, 3);
  std::vector<int> used;
  std::vector<config::InstancePlacement> out;
  // Three instances at tp=2 fill GPUs 0-5 of node 0; a tp=4 instance then does not fit in
  // the 2 GPUs left and goes to node 1; tp=2 instances after it still fill node 0 first.
  REQUIRE(config::place_instances(cluster, 3, 2, used, out));
  REQUIRE(config::place_instances(cluster, 1, 4, used, out));
  REQUIRE(config::place_instances(cluster, 2, 2, used, out));
  REQUIRE(out.size() == 6);
  const std::vector<std::pair<int, int>> expected{{0, 0}, {0, 2}, {0, 4}, {1, 0}, {0, 6}, {1, 4}};
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].node == expected[i].first);
    CHECK(out[i].first_gpu == expected[i].second);
  }
  CHECK_FALSE(config::place_instances(cluster, 3, 8, used, out));  // only node 2 is free
}

TEST_CASE("the shipped cluster cards load: 4-node star and 32-node leaf-spine") {
  auto four = load_with_card("h100-4node");
  CHECK(four.cluster.nodes() == 4);
  CHECK(four.cluster.fabric.kind == "star");
  CHECK(four.cluster.nics);
  auto big = load_with_card("h100-32node");
  CHECK(big.cluster.nodes() == 32);
  CHECK(big.cluster.fabric.switches.size() == 5);
  // 8 nodes x 8 GPUs x 400 Gb/s per leaf, non-blocking.
  CHECK(big.cluster.fabric.links[0].bandwidth == doctest::Approx(8 * 8 * 50e9));
}
