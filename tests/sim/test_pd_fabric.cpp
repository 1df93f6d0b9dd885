// An audit of P/D hand-offs over cluster fabrics (sim/engine/kv_handoff.hpp,
// sim/engine/platform.hpp): cases the first P/D tests left out, each against times derived
// by hand from the cards before the code was run.
//
// Model (sim/engine/platform.cpp, network_model_arguments): SimGrid's CM02 without
// cross-traffic and without its TCP window bound, so a Comm alone on its route takes
// Σ latencies + bytes / bottleneck bandwidth, and Comms sharing a link split its bandwidth
// evenly (max-min fairness). kvcache.transfer_efficiency = 1 keeps NICs and uplinks at the
// card figures. Figures from the cards (platforms/): dgx-h100 has 8 H100 SXM GPUs, one
// 400 Gb/s = 50 GB/s NIC per GPU at 5 us, NVLink 450 GB/s per direction through the
// NVSwitch at 1 us per hop. A hand-off moves B = prompt tokens x kv_bytes_per_token as
// max(tp_prefill, tp_decode) Comms of B / max each, shard k from prefill GPU k·P/max to
// decode GPU k·D/max. Step times come from the step-time model (never from the run).
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "models/compute/perf_model.hpp"
#include "tests/sim/cli_helpers.hpp"
#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

constexpr std::uint32_t kInput = 2000;  // prompt tokens: one prefill step, 125 blocks of 16
constexpr std::uint32_t kOutput = 5;

struct Group {
  std::string role;
  int count = 1;
  int tp = 1;
  std::string extra = "";  // more keys of the group
};

// A P/D scenario on a cluster card (a name or a path), groups placed in order node by node.
config::Scenario pd_scenario(const std::string& cluster, const std::vector<Group>& groups,
                             const std::string& decode_policy = "round_robin") {
  std::string text = "[platform]\ncluster = \"" + cluster + "\"\n[model]\ncard = \"llama-3.1-8b\"\n";
  for (const auto& g : groups)
    text += "[[instances]]\nname = \"" + g.role + "\"\nrole = \"" + g.role + "\"\ncount = " + std::to_string(g.count) +
            "\ntp = " + std::to_string(g.tp) + "\n" + g.extra;
  text += "[routing]\npolicy = \"round_robin\"\n[routing.decode]\npolicy = \"" + decode_policy +
          "\"\n[kvcache]\ntransfer_efficiency = 1\n[workload]\ngenerator = \"chat\"\nnum_requests = 1\n"
          "[output]\npath = \"\"\n";
  config::LoadOptions options;
  options.config_text = text;
  return config::load_scenario(options);
}

workload::Request prompt(std::uint64_t id, double arrival, std::uint64_t content) {
  return test::make_request(id, arrival, kInput, kOutput, test::contents(content, kInput / 16));
}

// The step time of one sequence (prior context, chunk) on an instance of group g.
double step(const config::Scenario& s, std::size_t g, std::uint64_t prior, std::uint64_t chunk) {
  const auto& group = s.groups.at(g);
  auto perf = compute::make_step_time_model(group.model, group.gpu, group.tp, group.compute);
  compute::BatchShape shape;
  shape.add(prior, chunk, true);
  return perf->step_time(shape);
}

double prefill(const config::Scenario& s) { return step(s, 0, 0, kInput); }

// The kOutput - 1 decode steps of a lone sequence on the decode group (group 1).
double decode_steps(const config::Scenario& s) {
  double total = 0;
  for (std::uint32_t k = 0; k + 1 < kOutput; ++k) total += step(s, 1, kInput + k, 1);
  return total;
}

double kv_bytes(const config::Scenario& s, std::uint32_t tokens = kInput) {
  return double(tokens) * s.model.kv_bytes_per_token();
}

std::map<std::string, double> link_bytes(const engine::RunOutput& out) {
  std::map<std::string, double> bytes;
  for (const auto& link : out.links) bytes[link.name] = link.bytes;
  return bytes;
}

// Two DGX H100 nodes on one switch whose NICs have 100 us of latency each (a long-haul or
// TCP-like fabric): a node0 → node1 GPU route is NIC up + NIC down, 50 GB/s, 200 us.
constexpr const char* kSlowStar = R"(name = "slow-star"
[[node_groups]]
node = "dgx-h100"
count = 2
nic_latency = "100us"
[network]
topology = "star"
)";

// Leaf-spine cards of DGX H100 nodes (8 x 50 GB/s GPU NICs, 5 us), 2 us uplinks; a leaf's
// uplink carries its nodes' 8 x 50 GB/s of NICs / oversubscription.
std::string leaf_spine(int nodes, int nodes_per_leaf, double oversubscription) {
  return "name = \"leaf-spine\"\n[[node_groups]]\nnode = \"dgx-h100\"\ncount = " + std::to_string(nodes) +
         "\n[network]\ntopology = \"leaf-spine\"\nnodes_per_leaf = " + std::to_string(nodes_per_leaf) +
         "\noversubscription = " + std::to_string(oversubscription) + "\nuplink_latency = \"2us\"\n";
}

}  // namespace

TEST_CASE("P/D fabric: a hand-off over 100 us NICs takes latency + bytes / NIC bandwidth, not a TCP-window bound") {
  // Prefill fills node 0 (8 instances); decode is node1-gpu0. Alone on its route the Comm
  // takes 2 x 100 us + B / 50 GB/s = 2.81 ms. SimGrid's CM02 default (TCP-gamma 4 MiB)
  // capped its rate at 4 MiB / (2 x 200 us) = 10.5 GB/s: 12.6 ms, what failed here before.
  test::ScratchDir dir;
  const auto card = dir.write("slow.toml", kSlowStar);
  auto s = pd_scenario(card, {{"prefill", 8}, {"decode", 1}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(r.decode_instance == 8);
  const double transfer = kv_bytes(s) / 50e9 + 200e-6;
  CHECK(r.ttft == doctest::Approx(prefill(s)).epsilon(1e-9));
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(transfer).epsilon(1e-9));
  CHECK(r.finish == doctest::Approx(prefill(s) + transfer + decode_steps(s)).epsilon(1e-9));
}

TEST_CASE("P/D fabric: platform show prints the bottleneck and latency a run's hand-off experiences") {
  // The same slow card at the run's transfer_efficiency 1: the route printed is NIC up + NIC
  // down, 50 GB/s and 200 us, which is what the run above measures (no bound of its own).
  test::ScratchDir dir;
  const auto card = dir.write("slow.toml", kSlowStar);
  const auto r = test::run_kvsim(dir, {"platform", "show", card, "--route", "node0-gpu0", "node1-gpu0", "--set",
                                 "kvcache.transfer_efficiency=1"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("route node0-gpu0 -> node1-gpu0: 2 links\n"
                   "  node0-gpu0-nic_UP  50 GB/s  100 us\n"
                   "  node1-gpu0-nic_DOWN  50 GB/s  100 us\n"
                   "bottleneck 50 GB/s, latency 200 us\n") != std::string::npos);
}

TEST_CASE("P/D fabric: prefill tp 2 to decode tp 1 across nodes, two half Comms share the decode GPU's NIC") {
  // Prefill: 4 instances of tp 2 fill node 0; the request goes to instance 0 (node0-gpu0,1).
  // Decode: tp 1 on node1-gpu0. Shards 0 and 1 (B/2 each) leave node0-gpu0 and node0-gpu1
  // by their own NICs and both enter node1-gpu0's NIC (50 GB/s, 25 GB/s each):
  // B/2 / 25 GB/s + 10 us = B / 50 GB/s + 10 us, as for a tp 1 prefill.
  auto s = pd_scenario("h100-4node", {{"prefill", 4, 2}, {"decode", 1, 1}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(r.prefill_instance == 0);
  CHECK(r.decode_instance == 4);
  const double bytes = kv_bytes(s);
  const double transfer = bytes / 50e9 + 10e-6;
  CHECK(r.kv_transfer_bytes == bytes);
  CHECK(r.ttft == doctest::Approx(prefill(s)).epsilon(1e-9));  // a tp 2 prefill step
  CHECK(r.kv_transfer_start == doctest::Approx(prefill(s)).epsilon(1e-9));
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(transfer).epsilon(1e-9));
  const double finish = prefill(s) + transfer + decode_steps(s);  // tp 1 decode steps
  CHECK(r.finish == doctest::Approx(finish).epsilon(1e-9));
  CHECK(r.tpot == doctest::Approx((finish - prefill(s)) / (kOutput - 1)).epsilon(1e-9));
  auto links = link_bytes(out);
  CHECK(links["node0-gpu0-nic_UP"] == doctest::Approx(bytes / 2));
  CHECK(links["node0-gpu1-nic_UP"] == doctest::Approx(bytes / 2));
  CHECK(links["node1-gpu0-nic_DOWN"] == doctest::Approx(bytes));
}

TEST_CASE("P/D fabric: prefill tp 1 to decode tp 2 in one node, two half Comms share the prefill GPU's NVLink") {
  // Prefill node0-gpu0; decode tp 2 on node0-gpu1,2. Shards go gpu0 → gpu1 and gpu0 → gpu2,
  // both out of gpu0's NVLink (450 GB/s, 225 each): B/2 / 225 GB/s + 2 us = B / 450 GB/s + 2 us.
  auto s = pd_scenario("h100-4node", {{"prefill", 1, 1}, {"decode", 1, 2}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(r.decode_instance == 1);
  const double bytes = kv_bytes(s);
  const double transfer = bytes / 450e9 + 2e-6;
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(transfer).epsilon(1e-9));
  CHECK(r.finish == doctest::Approx(prefill(s) + transfer + decode_steps(s)).epsilon(1e-9));  // tp 2 decode
  auto links = link_bytes(out);
  CHECK(links["node0-gpu0-nvlink_UP"] == doctest::Approx(bytes));
  CHECK(links["node0-gpu1-nvlink_DOWN"] == doctest::Approx(bytes / 2));
  CHECK(links["node0-gpu2-nvlink_DOWN"] == doctest::Approx(bytes / 2));
  CHECK(links.count("node0-gpu0-nic_UP") == 0);  // nothing left the node
}

TEST_CASE("P/D fabric: on a leaf-spine a same-leaf hand-off skips the spine, a cross-leaf one shares the uplinks") {
  // Three nodes, two per leaf, oversubscription 4: leaf0 (nodes 0, 1) uplink 16 x 50 / 4 =
  // 200 GB/s, leaf1 (node 2) 8 x 50 / 4 = 100 GB/s. Prefill tp 8 on node 0; decode tp 8 on
  // nodes 1 and 2 (round robin: request 0 to node 1, request 1 to node 2). Each hand-off is
  // 8 Comms of B/8, GPU k to GPU k.
  //   node0 → node1: NICs only (no spine hop): B/8 / 50 GB/s + 10 us = B / 400 GB/s + 10 us.
  //   node0 → node2: the 8 Comms share leaf1's 100 GB/s uplink (12.5 GB/s each), latency
  //   5 + 2 + 2 + 5 us: B/8 / 12.5 GB/s + 14 us = B / 100 GB/s + 14 us.
  test::ScratchDir dir;
  const auto card = dir.write("ls.toml", leaf_spine(3, 2, 4));
  auto s = pd_scenario(card, {{"prefill", 1, 8}, {"decode", 2, 8}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1), prompt(1, 10.0, 100000)});
  REQUIRE(out.requests.size() == 2);
  const double bytes = kv_bytes(s);
  const auto& same = out.requests[0];
  const auto& cross = out.requests[1];
  REQUIRE(same.status == results::RequestStatus::completed);
  REQUIRE(cross.status == results::RequestStatus::completed);
  CHECK(same.decode_instance == 1);
  CHECK(cross.decode_instance == 2);
  CHECK(same.kv_transfer_end - same.kv_transfer_start == doctest::Approx(bytes / 400e9 + 10e-6).epsilon(1e-9));
  CHECK(cross.kv_transfer_end - cross.kv_transfer_start == doctest::Approx(bytes / 100e9 + 14e-6).epsilon(1e-9));
  auto links = link_bytes(out);
  CHECK(links["leaf0-uplink_UP"] == doctest::Approx(bytes));  // only the cross-leaf hand-off
  CHECK(links["leaf1-uplink_DOWN"] == doctest::Approx(bytes));
}

TEST_CASE("P/D fabric: two cross-leaf hand-offs at oversubscription 2 split the uplink") {
  // One node per leaf, oversubscription 2: each uplink is 8 x 50 / 2 = 200 GB/s. Prefill
  // tp 4 x 2 on node 0, decode tp 4 x 2 on node 1. One hand-off alone: 4 Comms of B/4, each
  // NIC-bound at 50 GB/s, 200 GB/s in all = the uplink: B/4 / 50 GB/s + 14 us. Two at once:
  // 8 Comms on the 200 GB/s uplinks, 25 GB/s each: B/4 / 25 GB/s + 14 us, twice the time.
  test::ScratchDir dir;
  const auto card = dir.write("ls.toml", leaf_spine(2, 1, 2));
  auto s = pd_scenario(card, {{"prefill", 2, 4}, {"decode", 2, 4}});
  const double bytes = kv_bytes(s);
  auto alone = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(alone.requests.size() == 1);
  CHECK(alone.requests[0].kv_transfer_end - alone.requests[0].kv_transfer_start ==
        doctest::Approx(bytes / 200e9 + 14e-6).epsilon(1e-9));
  auto both = test::run_with(s, {prompt(0, 0.0, 1), prompt(1, 0.0, 100000)});
  REQUIRE(both.requests.size() == 2);
  for (const auto& r : both.requests) {
    REQUIRE(r.status == results::RequestStatus::completed);
    CHECK(r.ttft == doctest::Approx(prefill(s)).epsilon(1e-9));
    CHECK(r.kv_transfer_start == doctest::Approx(prefill(s)).epsilon(1e-9));
    CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(bytes / 100e9 + 14e-6).epsilon(1e-9));
  }
  CHECK(both.requests[0].decode_instance != both.requests[1].decode_instance);
}

TEST_CASE("P/D fabric: a full decode instance makes the next hand-off wait, TTFT unchanged, TPOT pays the wait") {
  // Two prefill instances (node0-gpu0, gpu1) and one decode instance (node0-gpu2) of 130
  // blocks: one 2000-token context (126 blocks with its output) fits, two do not. Both
  // prompts arrive at 0 and hand off at P (their prefill step). The first admitted pulls its
  // KV over NVLink (T = B / 450 GB/s + 2 us) and decodes 4 steps (D), finishing at P + T + D;
  // only then does the second get blocks, pull its KV and decode: P + 2T + 2D. Its TTFT is
  // still P (the prefill side produced its first token), its TPOT (2T + 2D) / 4.
  auto s = pd_scenario("h100-4node", {{"prefill", 2}, {"decode", 1, 1, "kv_blocks = 130\n"}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1), prompt(1, 0.0, 100000)});
  REQUIRE(out.requests.size() == 2);
  const double p = prefill(s), t = kv_bytes(s) / 450e9 + 2e-6, d = decode_steps(s);
  const auto& first = out.requests[0].finish < out.requests[1].finish ? out.requests[0] : out.requests[1];
  const auto& second = out.requests[0].finish < out.requests[1].finish ? out.requests[1] : out.requests[0];
  REQUIRE(first.status == results::RequestStatus::completed);
  REQUIRE(second.status == results::RequestStatus::completed);
  CHECK(first.finish == doctest::Approx(p + t + d).epsilon(1e-9));
  CHECK(second.ttft == doctest::Approx(p).epsilon(1e-9));
  CHECK(second.kv_transfer_start == doctest::Approx(p + t + d).epsilon(1e-9));
  CHECK(second.kv_transfer_end == doctest::Approx(p + 2 * t + d).epsilon(1e-9));
  CHECK(second.finish == doctest::Approx(p + 2 * t + 2 * d).epsilon(1e-9));
  CHECK(second.tpot == doctest::Approx((2 * t + 2 * d) / (kOutput - 1)).epsilon(1e-9));
}

TEST_CASE("P/D fabric: a prefix cached on the prefill side only still moves the whole context") {
  // One prefill instance, two decode instances (round robin). Request 1 repeats request 0's
  // prompt after it finished: the prefill instance finds 124 of 125 blocks (the last is
  // recomputed for the logits), so its first token comes after a 16-token step on 1984
  // tokens of context; its decode instance is the other one, whose cache is cold, so all
  // 2000 tokens move (the decode side's cache is its own, not the prefill side's).
  auto s = pd_scenario("h100-4node", {{"prefill", 1}, {"decode", 2}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1), prompt(1, 100.0, 1)});
  REQUIRE(out.requests.size() == 2);
  const auto& r = out.requests[1];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(out.requests[0].decode_instance == 1);
  CHECK(r.decode_instance == 2);
  CHECK(r.cached_tokens == 1984);
  CHECK(r.ttft == doctest::Approx(step(s, 0, 1984, 16)).epsilon(1e-9));
  CHECK(r.kv_transfer_bytes == kv_bytes(s));
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(kv_bytes(s) / 450e9 + 2e-6).epsilon(1e-9));
}

TEST_CASE("P/D fabric: on a graph fabric the hand-off crosses every link of the path once, bottlenecked by the slowest") {
  // Switches a - b - c in a line (a-b 100 GB/s 3 us, b-c 30 GB/s 4 us); node 0 on a, node 1
  // on c, b has no node. node0-gpu0 → node1-gpu0 crosses NIC up (50 GB/s, 5 us), ab up,
  // bc up, NIC down: bottleneck 30 GB/s, latency 5 + 3 + 4 + 5 = 17 us, each counted once.
  test::ScratchDir dir;
  const auto card = dir.write("line.toml", R"(name = "line"
[[node_groups]]
node = "dgx-h100"
count = 2
switch = ["a", "c"]
[network]
topology = "graph"
[[network.switches]]
name = "a"
[[network.switches]]
name = "b"
[[network.switches]]
name = "c"
[[network.links]]
name = "ab"
from = "a"
to = "b"
bandwidth = "100GB/s"
latency = "3us"
[[network.links]]
name = "bc"
from = "b"
to = "c"
bandwidth = "30GB/s"
latency = "4us"
)");
  const auto show = test::run_kvsim(
      dir, {"platform", "show", card, "--route", "node0-gpu0", "node1-gpu0", "--set", "kvcache.transfer_efficiency=1"});
  REQUIRE_MESSAGE(show.exit_code == 0, show.err);
  CHECK(show.out.find("route node0-gpu0 -> node1-gpu0: 4 links\n"
                      "  node0-gpu0-nic_UP  50 GB/s  5 us\n"
                      "  ab_UP  100 GB/s  3 us\n"
                      "  bc_UP  30 GB/s  4 us\n"
                      "  node1-gpu0-nic_DOWN  50 GB/s  5 us\n"
                      "bottleneck 30 GB/s, latency 17 us\n") != std::string::npos);
  auto s = pd_scenario(card, {{"prefill", 8}, {"decode", 1}});
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(r.decode_instance == 8);
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(kv_bytes(s) / 30e9 + 17e-6).epsilon(1e-9));
}

TEST_CASE("P/D fabric: prefill tp 2 to decode tp 3 moves each GPU's own heads, 2/6 1/6 1/6 2/6 of the bytes") {
  // A 6-GPU NVSwitch node and a model of 6 KV heads (cards written here; the figures are
  // dgx-h100's and Llama-3.1-8B's but for the counts). Prefill tp 2 on GPUs 0-1 holds heads
  // 0-2 and 3-5; decode tp 3 on GPUs 2-4 holds heads 0-1, 2-3, 4-5. The moves are gpu0 →
  // gpu2 (B/3), gpu0 → gpu3 (B/6), gpu1 → gpu3 (B/6), gpu1 → gpu4 (B/3): each prefill GPU
  // sends B/2 (before: B/max(P, D) per Comm over max(P, D) Comms, so GPU 0 sent 2B/3 and
  // GPU 1 B/3, and GPU 1's head 3 reached decode GPU 4 instead of 3).
  // Timing (max-min sharing, 450 GB/s per NVLink direction): all four start at 225 GB/s
  // (two Comms out of each prefill GPU); the B/6 ones end at B/6 / 225 GB/s, then the B/3
  // ones have B/6 left alone at 450 GB/s: B/1350 + B/2700 = B / 900 GB/s, + 2 us. Each
  // prefill GPU's link sends B/2 at its full 450 GB/s all along, as it should.
  test::ScratchDir dir;
  const auto node = dir.write("six-node.toml", R"(name = "six-gpu"
source = "test: dgx-h100 with 6 GPUs"
gpu = "h100-sxm"
gpus = 6
nvswitch = true
nvlink_latency = "1us"
pcie_latency = "2us"
host_dram = "2TiB"
host_dram_bandwidth = "614.4GB/s"
nic_bandwidth = "400Gbps"
nic_latency = "5us"
)");
  const auto model = dir.write("six-model.toml", R"(name = "six-kv-heads"
source = "test: llama-3.1-8b with 24 heads and 6 KV heads"
layers = 32
hidden = 3072
heads = 24
kv_heads = 6
head_dim = 128
intermediate = 14336
vocab = 128256
dtype_bytes = 2
gated_mlp = true
tied_embeddings = false
max_context = 131072
)");
  config::LoadOptions options;
  options.config_text = "[platform]\nnode = \"" + node + "\"\n[model]\ncard = \"" + model + R"("
[[instances]]
name = "prefill"
role = "prefill"
count = 1
tp = 2
[[instances]]
name = "decode"
role = "decode"
count = 1
tp = 3
[kvcache]
transfer_efficiency = 1
[workload]
generator = "chat"
num_requests = 1
[output]
path = ""
)";
  auto s = config::load_scenario(options);
  REQUIRE(s.groups.at(0).tp == 2);
  REQUIRE(s.groups.at(1).tp == 3);
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  const double bytes = kv_bytes(s);
  CHECK(bytes == 2000.0 * 2 * 32 * 6 * 128 * 2);
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(bytes / 900e9 + 2e-6).epsilon(1e-9));
  auto links = link_bytes(out);
  CHECK(links["node0-gpu0-nvlink_UP"] == doctest::Approx(bytes / 2));
  CHECK(links["node0-gpu1-nvlink_UP"] == doctest::Approx(bytes / 2));
  for (const char* down : {"node0-gpu2-nvlink_DOWN", "node0-gpu3-nvlink_DOWN", "node0-gpu4-nvlink_DOWN"})
    CHECK(links[down] == doctest::Approx(bytes / 3));
}

TEST_CASE("P/D fabric: a tp 2 decode instance that does not fit the node's last GPU goes whole to the next node") {
  // Seven tp 1 prefill instances take node0-gpu0..6; the tp 2 decode instance does not fit
  // in node0-gpu7 and takes node1-gpu0,1 (fill node by node, never across nodes). The two
  // B/2 shards both leave node0-gpu0 by its NIC (50 GB/s): B / 50 GB/s + 10 us; nothing
  // touches node0-gpu7. Split over gpu7 and node1-gpu0 it would have been faster (NVLink).
  auto s = pd_scenario("h100-4node", {{"prefill", 7, 1}, {"decode", 1, 2}});
  REQUIRE(s.placement.size() == 8);
  CHECK(s.placement[7].node == 1);
  CHECK(s.placement[7].first_gpu == 0);
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(r.decode_instance == 7);
  const double bytes = kv_bytes(s);
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(bytes / 50e9 + 10e-6).epsilon(1e-9));
  auto links = link_bytes(out);
  CHECK(links["node0-gpu0-nic_UP"] == doctest::Approx(bytes));
  CHECK(links["node1-gpu0-nic_DOWN"] == doctest::Approx(bytes / 2));
  CHECK(links["node1-gpu1-nic_DOWN"] == doctest::Approx(bytes / 2));
  CHECK(links.count("node0-gpu7-nvlink_DOWN") == 0);
}

TEST_CASE("P/D fabric: prefill on H100, decode on H200 of a mixed cluster, each side steps with its own GPU") {
  // h100-h200-mixed: nodes 0-1 DGX H100, node 2 HGX H200, one switch, 400 Gb/s NICs at 5 us.
  // The decode group asks for the H200s: node2-gpu0. The hand-off crosses two NICs,
  // B / 50 GB/s + 10 us; the decode steps are the H200 model's, not the H100's.
  auto s = pd_scenario("h100-h200-mixed", {{"prefill", 1}, {"decode", 1, 1, "gpu = \"h200\"\n"}});
  REQUIRE(s.groups.at(1).gpu.name == "h200");
  REQUIRE(s.placement.at(1).node == 2);
  auto out = test::run_with(s, {prompt(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  const double transfer = kv_bytes(s) / 50e9 + 10e-6;
  CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(transfer).epsilon(1e-9));
  CHECK(r.finish == doctest::Approx(prefill(s) + transfer + decode_steps(s)).epsilon(1e-9));
  // The check above tells the GPUs apart: the same steps on the H100 group take longer.
  double on_h100 = 0;
  for (std::uint32_t k = 0; k + 1 < kOutput; ++k) on_h100 += step(s, 0, kInput + k, 1);
  CHECK(on_h100 > decode_steps(s) * (1 + 1e-6));
}

TEST_CASE("P/D fabric: a busy decode instance pulls a handed-off request's KV at its next step boundary") {
  // Prefill instances on node0-gpu0 and gpu1, the decode instance on gpu2. A (40 output
  // tokens) hands off at P and its KV arrives at t0 = P + T (T = B / 450 GB/s + 2 us); the
  // decode instance then steps A alone: step k ends at t(k+1) = t(k) + step(2000 + k, 1).
  // B arrives so that its first token (P after its arrival, on the idle gpu1) falls halfway
  // through A's step 3. The decode instance admits B, and starts pulling its KV, when that
  // step ends (t4), as vLLM's and Dynamo's decode schedulers do; the pull, alone on gpu1's
  // NVLink, ends at t4 + T. B's TTFT is still P.
  auto s = pd_scenario("h100-4node", {{"prefill", 2}, {"decode", 1}});
  const double p = prefill(s), t = kv_bytes(s) / 450e9 + 2e-6;
  std::vector<double> boundary{p + t};
  for (std::uint32_t k = 0; k < 5; ++k) boundary.push_back(boundary.back() + step(s, 1, kInput + k, 1));
  const double b_arrival = (boundary[3] + boundary[4]) / 2 - p;
  auto a = test::make_request(0, 0.0, kInput, 40, test::contents(1, kInput / 16));
  auto out = test::run_with(s, {a, prompt(1, b_arrival, 100000)});
  REQUIRE(out.requests.size() == 2);
  const auto& b = out.requests[1];
  REQUIRE(out.requests[0].status == results::RequestStatus::completed);
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(out.requests[0].kv_transfer_end == doctest::Approx(boundary[0]).epsilon(1e-9));
  CHECK(b.prefill_instance == 1);
  CHECK(b.ttft == doctest::Approx(p).epsilon(1e-9));
  CHECK(b.kv_transfer_start == doctest::Approx(boundary[4]).epsilon(1e-9));
  CHECK(b.kv_transfer_end == doctest::Approx(boundary[4] + t).epsilon(1e-9));
}
