// SimGrid XML platform import (a cluster card's platform_xml): the shipped example
// (docs/examples/xml-2node.*) through `kvsim platform show` (routes as SimGrid computes
// them, against the hand-computed bottleneck and latency), a run on it, and the mapping
// errors, each naming the file and the host.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "tests/sim/cli_helpers.hpp"
#include "tests/sim/sim_fixture.hpp"

using kvsim::test::read_text;
using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

const std::string kExamples = std::string(KVSIM_SOURCE_DIR) + "/docs/examples/";

// The example card, node card and XML copied into dir, the XML edited by edit.
std::string example_in(const ScratchDir& dir, const std::function<std::string(std::string)>& edit = nullptr) {
  dir.write("xml-2node-node.toml", read_text(kExamples + "xml-2node-node.toml"));
  const std::string xml = read_text(kExamples + "xml-2node.xml");
  dir.write("xml-2node.xml", edit ? edit(xml) : xml);
  return dir.write("xml-2node.toml", read_text(kExamples + "xml-2node.toml"));
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("platform xml: a route across the two nodes, by name and by property, with its bottleneck and latency") {
  ScratchDir dir;
  const auto card = example_in(dir);
  // node0-gpu0 -> node 1 GPU 1 (host accel-b, mapped by its kvsim.* properties): NIC 50 GB/s
  // 5 us, both uplinks 100 GB/s 1 us, NIC: bottleneck 50 GB/s, latency 5 + 1 + 1 + 5 = 12 us.
  const auto r = run_kvsim(dir, {"platform", "show", card, "--route", "node0-gpu0", "accel-b"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("network from SimGrid platform") != std::string::npos);
  const auto at = r.out.find("route node0-gpu0 -> accel-b: 4 links\n");
  REQUIRE(at != std::string::npos);
  CHECK(r.out.substr(at) ==
        "route node0-gpu0 -> accel-b: 4 links\n"
        "  node0-gpu0-nic  50 GB/s  5 us\n"
        "  uplink0  100 GB/s  1 us\n"
        "  uplink1  100 GB/s  1 us\n"
        "  node1-gpu1-nic  50 GB/s  5 us\n"
        "bottleneck 50 GB/s, latency 12 us\n");
  // The XML's routes are symmetrical: the CPU side reaches accel-b over its PCIe link.
  const auto back = run_kvsim(dir, {"platform", "show", card, "--route", "node1-cpu", "accel-b"});
  REQUIRE_MESSAGE(back.exit_code == 0, back.err);
  CHECK(back.out.find("route node1-cpu -> accel-b: 1 links\n  node1-gpu1-pcie  64 GB/s  2 us\n"
                      "bottleneck 64 GB/s, latency 2 us\n") != std::string::npos);
}

TEST_CASE("platform xml: a run on the imported platform serves on its four GPUs") {
  ScratchDir dir;
  example_in(dir);
  const auto config = dir.write("run.toml", read_text(kExamples + "xml-2node-run.toml"));
  const auto r = run_kvsim(dir, {"run", "--quiet", "--json", config, "--set", "workload.num_requests=100", "-o", ""});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("\"completed\":100") != std::string::npos);
  // A fifth instance has no GPU left on the card's two nodes of two GPUs.
  const auto five = run_kvsim(dir, {"run", "--quiet", config, "--set", "instances.count=5", "-o", ""});
  CHECK(five.exit_code == 2);
}

TEST_CASE("platform xml: a GPU without a route to its node's CPU is an error naming the file and the host") {
  ScratchDir dir;
  const auto card = example_in(dir, [](std::string xml) {
    return replaced(xml, R"(<route src="node1-gpu0" dst="node1-cpu"><link_ctn id="node1-gpu0-pcie"/></route>)", "");
  });
  const auto r = run_kvsim(dir, {"platform", "show", card});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("xml-2node.xml: node1-cpu: no route to node1-gpu0") != std::string::npos);
}

TEST_CASE("platform xml: mapping errors name the host: a node past the card's, a GPU twice, an unmapped host") {
  ScratchDir dir;
  const auto past = example_in(dir, [](std::string xml) {
    return replaced(xml, R"(<prop id="kvsim.node" value="1"/>)", R"(<prop id="kvsim.node" value="2"/>)");
  });
  auto r = run_kvsim(dir, {"platform", "show", past});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("xml-2node.xml: accel-b: node 2, but the cluster card") != std::string::npos);
  CHECK(r.err.find("has 2 nodes, 0..1") != std::string::npos);

  const auto twice = example_in(dir, [](std::string xml) {
    return replaced(xml, R"(<prop id="kvsim.gpu_index" value="1"/>)", R"(<prop id="kvsim.gpu_index" value="0"/>)");
  });
  r = run_kvsim(dir, {"platform", "show", twice});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("node 1 already has this gpu") != std::string::npos);

  const auto stray = example_in(dir, [](std::string xml) {
    return replaced(xml, R"(<host id="node1-cpu" speed="1Tf"/>)",
                    R"(<host id="node1-cpu" speed="1Tf"/><host id="login" speed="1Gf"/>)");
  });
  r = run_kvsim(dir, {"platform", "show", stray});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("xml-2node.xml: login: the host matches no kvsim mapping") != std::string::npos);
}

TEST_CASE("platform xml: a card with platform_xml refuses a network table and a missing file") {
  ScratchDir dir;
  example_in(dir);
  const auto both = dir.write("both.toml", read_text(kExamples + "xml-2node.toml") + "[network]\ntopology = \"star\"\n");
  auto r = run_kvsim(dir, {"platform", "show", both});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("a card with platform_xml takes its network from the XML file") != std::string::npos);
  const auto missing = dir.write("missing.toml", replaced(read_text(kExamples + "xml-2node.toml"),
                                                          "platform_xml = \"xml-2node.xml\"", "platform_xml = \"nope.xml\""));
  r = run_kvsim(dir, {"platform", "show", missing});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("platform_xml: no such file") != std::string::npos);
}

TEST_CASE("platform xml: tiers below HBM need their hosts in the file: an SSD per node, the memory servers") {
  ScratchDir dir;
  example_in(dir);
  const auto config = dir.write("run.toml", read_text(kExamples + "xml-2node-run.toml"));
  auto r = run_kvsim(dir, {"run", "--quiet", config, "--set", "kvcache.ssd.capacity=1TB", "-o", ""});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("xml-2node.xml: platform_xml: node 0 has no SSD host, which the ssd tier needs") != std::string::npos);
  r = run_kvsim(dir, {"run", "--quiet", config, "--set", "kvcache.remote.capacity=1TB", "--set", "kvcache.remote.servers=2",
                      "-o", ""});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("the remote tier needs 2 memory servers; the file has 0") != std::string::npos);
}

TEST_CASE("platform xml: a DRAM load crosses the file's PCIe link as written: B / 64 GB/s + 2 us") {
  // Two instances on node 0's GPUs; A (instance 0) writes its 40-block prompt to the node's
  // DRAM when it completes; B (instance 1, round robin) shares those 40 blocks and loads
  // them from DRAM over node0-gpu1-pcie (64 GB/s, 2 us in xml-2node.xml; links of an
  // imported file are used as written, without transfer_efficiency).
  kvsim::config::LoadOptions options;
  options.output = "";
  options.config_text = "[platform]\ncluster = \"" + kExamples + "xml-2node.toml\"\n" + R"([instances]
count = 2
tp = 1
[kvcache]
load_vs_recompute = "load"
[kvcache.dram]
capacity = "16GiB"
admission = "completion"
[routing]
policy = "round_robin"
[workload]
generator = "chat"
num_requests = 1
)";
  auto scenario = kvsim::config::load_scenario(options);
  std::vector<std::uint64_t> a(40), b(48);
  for (std::uint64_t i = 0; i < 48; ++i) {
    if (i < 40) a[i] = 1 + i;
    b[i] = i < 40 ? 1 + i : 1000 + i;
  }
  auto out = kvsim::test::run_with(scenario, {kvsim::test::make_request(0, 0.0, 40 * 16, 2, a),
                                              kvsim::test::make_request(1, 100.0, 48 * 16, 2, b)});
  REQUIRE(out.requests.size() == 2);
  const auto& second = out.requests[1];
  CHECK(second.instance == 1);
  CHECK(second.dram_tokens == 40 * 16);
  const double bytes = 40 * 16 * scenario.model.kv_bytes_per_token();
  CHECK(second.load_wait == doctest::Approx(bytes / 64e9 + 2e-6).epsilon(1e-9));
}
