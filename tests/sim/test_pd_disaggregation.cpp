// Prefill/decode disaggregation (sim/engine/kv_handoff.hpp) against hand-computed times.
//
// Transfers follow SimGrid's CM02 model without cross-traffic: one Comm alone on its route
// takes Σ latencies + bytes / bottleneck bandwidth; Comms sharing a link split its
// bandwidth evenly. kvcache.transfer_efficiency = 1 keeps the NICs at their card bandwidth.
// Figures from the cards (platforms/): dgx-h100 GPU NIC 400 Gb/s = 50 GB/s, 5 us; H100 SXM
// NVLink 450 GB/s per direction through the NVSwitch, 1 us per hop; h100-4node is a star (a
// GPU-to-GPU route across nodes is the sender's NIC up and the receiver's NIC down).
// Step times come from the step-time model itself (test::step_time), never from the run.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <unistd.h>

#include "sim/results/schema.hpp"
#include "tests/sim/cli_helpers.hpp"
#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

constexpr std::uint32_t kInput = 2000;  // prompt tokens, one prefill step (< max_num_batched_tokens)
constexpr std::uint32_t kOutput = 5;

// A P/D scenario: prefill_count prefill instances placed first (node by node), then
// decode_count decode instances, all of the given tp, 16-token KV blocks.
config::Scenario pd_scenario(const std::string& platform, int prefill_count, int decode_count,
                             const std::string& decode_policy = "least_loaded", int tp = 1) {
  config::LoadOptions options;
  const std::string tp_line = "\ntp = " + std::to_string(tp);
  options.config_text = "[platform]\n" + platform + R"(
[model]
card = "llama-3.1-8b"
[[instances]]
name = "prefill"
role = "prefill"
count = )" + std::to_string(prefill_count) + tp_line +
                        R"(
[[instances]]
name = "decode"
role = "decode"
count = )" + std::to_string(decode_count) + tp_line +
                        R"(
[routing]
policy = "round_robin"
[routing.decode]
policy = ")" + decode_policy + R"("
[kvcache]
transfer_efficiency = 1
[workload]
generator = "chat"
num_requests = 1
[output]
path = ""
)";
  return config::load_scenario(options);
}

workload::Request lone_request(std::uint64_t id, double arrival, std::uint64_t content) {
  return test::make_request(id, arrival, kInput, kOutput, test::contents(content, kInput / 16));
}

double prefill_step(const config::Scenario& s) { return test::step_time(s, {{0, kInput, true}}); }

// kOutput - 1 decode steps of one sequence after its prompt.
double decode_steps(const config::Scenario& s) {
  double total = 0;
  for (std::uint32_t k = 0; k + 1 < kOutput; ++k) total += test::step_time(s, {{kInput + k, 1, true}});
  return total;
}

void check_lone_request(const config::Scenario& s, const results::RequestRecord& r, double bandwidth, double latency,
                        int prefill_instance, int decode_instance) {
  REQUIRE(r.status == results::RequestStatus::completed);
  const double bytes = double(kInput) * s.model.kv_bytes_per_token();
  const double first_token = prefill_step(s);
  const double transfer = bytes / bandwidth + latency;
  CHECK(r.prefill_instance == prefill_instance);
  CHECK(r.decode_instance == decode_instance);
  CHECK(r.instance == decode_instance);
  CHECK(r.ttft == doctest::Approx(first_token).epsilon(1e-9));
  CHECK(r.kv_transfer_bytes == bytes);
  CHECK(r.kv_transfer_start == doctest::Approx(first_token).epsilon(1e-9));
  CHECK(r.kv_transfer_end == doctest::Approx(first_token + transfer).epsilon(1e-9));
  // Decode starts when the KV has arrived; TPOT includes the transfer.
  const double finish = first_token + transfer + decode_steps(s);
  CHECK(r.finish == doctest::Approx(finish).epsilon(1e-9));
  CHECK(r.tpot == doctest::Approx((finish - first_token) / (kOutput - 1)).epsilon(1e-9));
}

// A two-node leaf-spine card, one node per leaf, whose uplinks carry as much as one GPU NIC
// (8 GPUs x 100 GB/s / oversubscription 8 = 100 GB/s): node0 -> node1 crosses NIC up 3 us,
// leaf0 uplink up 2 us, leaf1 uplink down 2 us, NIC down 3 us; bottleneck 100 GB/s, 10 us.
constexpr const char* kLeafSpine = R"(name = "two-leaves"
[[node_groups]]
node = "dgx-h100"
count = 2
nic_bandwidth = "100GB/s"
nic_latency = "3us"
[network]
topology = "leaf-spine"
nodes_per_leaf = 1
oversubscription = 8
uplink_latency = "2us"
)";

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/kvsim-pd-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = std::string(name) + ".toml";
    std::rename(name, path.c_str());
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

std::string config_error(const std::string& text) {
  config::LoadOptions options;
  options.config_text = text;
  try {
    config::load_scenario(options);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kTwoGroups = R"([platform]
cluster = "h100-4node"
[[instances]]
name = "p"
role = "prefill"
count = 2
[[instances]]
name = "d"
role = "%s"
count = 2
)";

std::string two_groups(const std::string& second_role, const std::string& extra = "") {
  std::string text = kTwoGroups;
  text.replace(text.find("%s"), 2, second_role);
  return text + extra;
}

// The first column (by the results schema) in which two requests tables differ, "" when
// equal. Column by column, not memcmp of whole rows: padding between members is not data.
std::string first_difference(const std::vector<results::RequestRecord>& a, const std::vector<results::RequestRecord>& b) {
  if (a.size() != b.size()) return "row count";
  for (std::size_t i = 0; i < a.size(); ++i)
    for (const auto& c : results::requests_table().columns) {
      const auto* x = reinterpret_cast<const char*>(&a[i]) + c.offset;
      const auto* y = reinterpret_cast<const char*>(&b[i]) + c.offset;
      if (std::memcmp(x, y, c.size) != 0) return c.name + " at row " + std::to_string(i);
    }
  return "";
}

}  // namespace

TEST_CASE("P/D across two nodes: TTFT is the prefill step, the KV moves over both NICs, decode starts on arrival") {
  // 8 prefill instances fill node 0; the decode instance is node1-gpu0. Round robin sends
  // the request to instance 0 (node0-gpu0): route = node0-gpu0 NIC up + node1-gpu0 NIC down.
  auto s = pd_scenario("cluster = \"h100-4node\"", 8, 1);
  auto out = test::run_with(s, {lone_request(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  check_lone_request(s, out.requests[0], 50e9, 2 * 5e-6, 0, 8);
  // The two NIC directions carried exactly the KV bytes.
  const double bytes = double(kInput) * s.model.kv_bytes_per_token();
  int nic_links = 0;
  for (const auto& link : out.links) {
    const std::string name = link.name;
    if (name == "node0-gpu0-nic_UP" || name == "node1-gpu0-nic_DOWN") {
      ++nic_links;
      CHECK(link.bytes == bytes);
    }
  }
  CHECK(nic_links == 2);
}

TEST_CASE("P/D inside one node: the KV moves over NVLink through the NVSwitch") {
  // Prefill on node0-gpu0, decode on node0-gpu1: 450 GB/s, 1 us + 1 us.
  auto s = pd_scenario("cluster = \"h100-4node\"", 1, 1);
  auto out = test::run_with(s, {lone_request(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  check_lone_request(s, out.requests[0], 450e9, 2e-6, 0, 1);
}

TEST_CASE("P/D at tp 2 on both sides: one Comm per GPU shard, each over its own pair of NICs") {
  // 4 prefill instances of tp 2 fill node 0; the decode instance is node1-gpu0/gpu1. Shard k
  // moves B/2 from node0-gpu-k to node1-gpu-k over its own NICs: B/2 / 50 GB/s + 10 us.
  auto s = pd_scenario("cluster = \"h100-4node\"", 4, 1, "least_loaded", 2);
  REQUIRE(s.groups[0].tp == 2);
  REQUIRE(s.groups[1].tp == 2);
  auto out = test::run_with(s, {lone_request(0, 0.0, 1)});
  REQUIRE(out.requests.size() == 1);
  check_lone_request(s, out.requests[0], 2 * 50e9, 2 * 5e-6, 0, 4);
}

TEST_CASE("P/D: two simultaneous hand-offs sharing the leaf uplinks each take twice the bandwidth time") {
  // Prefill instances 0-7 fill node 0, decode instances 8-15 node 1; two requests arriving
  // together go to prefill 0 and 1 (round robin) and to decode 8 and 9 (round robin): distinct
  // NICs, the same two uplinks (100 GB/s each), so each Comm gets 50 GB/s: 2B / 100 GB/s + 10 us.
  TempFile card(kLeafSpine);
  auto s = pd_scenario("cluster = \"" + card.path + "\"", 8, 8, "round_robin");
  auto out = test::run_with(s, {lone_request(0, 0.0, 1), lone_request(1, 0.0, 100000)});
  REQUIRE(out.requests.size() == 2);
  const double bytes = double(kInput) * s.model.kv_bytes_per_token();
  const double first_token = prefill_step(s);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& r = out.requests[i];
    REQUIRE(r.status == results::RequestStatus::completed);
    CHECK(r.prefill_instance == int(i));
    CHECK(r.decode_instance >= 8);  // 8 and 9, in the order the two prefills hand off
    CHECK(r.decode_instance <= 9);
    CHECK(r.ttft == doctest::Approx(first_token).epsilon(1e-9));
    CHECK(r.kv_transfer_start == doctest::Approx(first_token).epsilon(1e-9));
    CHECK(r.kv_transfer_end - r.kv_transfer_start == doctest::Approx(2 * bytes / 100e9 + 10e-6).epsilon(1e-9));
  }
  CHECK(out.requests[0].decode_instance != out.requests[1].decode_instance);
  // Alone, the same move takes half the bandwidth time.
  auto alone = test::run_with(s, {lone_request(0, 0.0, 1)});
  CHECK(alone.requests[0].kv_transfer_end - alone.requests[0].kv_transfer_start ==
        doctest::Approx(bytes / 100e9 + 10e-6).epsilon(1e-9));
}

TEST_CASE("P/D: a one-token request finishes on its prefill instance without a hand-off") {
  auto s = pd_scenario("cluster = \"h100-4node\"", 1, 1);
  auto out = test::run_with(s, {test::make_request(0, 0.0, kInput, 1, test::contents(1, kInput / 16))});
  const auto& r = out.requests[0];
  REQUIRE(r.status == results::RequestStatus::completed);
  CHECK(r.instance == 0);
  CHECK(r.prefill_instance == -1);
  CHECK(r.decode_instance == -1);
  CHECK(std::isnan(r.kv_transfer_bytes));
  CHECK(r.finish == doctest::Approx(prefill_step(s)).epsilon(1e-9));
}

TEST_CASE("P/D: a decode instance reuses context blocks it already caches and moves only the rest") {
  // Request 1 repeats request 0's prompt long after it finished; the decode instance still
  // caches request 0's prompt blocks (published on arrival of its KV), so only the last
  // block's 16 tokens move. Both prefills see the prefill side's own cache: request 1 finds
  // 124 of its 125 blocks there (the last is recomputed to produce logits).
  auto s = pd_scenario("cluster = \"h100-4node\"", 1, 1);
  auto out = test::run_with(s, {lone_request(0, 0.0, 1), lone_request(1, 100.0, 1)});
  const auto& second = out.requests[1];
  REQUIRE(second.status == results::RequestStatus::completed);
  CHECK(second.kv_transfer_bytes == 16 * s.model.kv_bytes_per_token());
  CHECK(second.cached_tokens == (kInput / 16 - 1) * 16);
}

TEST_CASE("P/D: the same seed gives the same requests table, with prefill, decode and mixed groups") {
  config::LoadOptions options;
  options.config_text = R"([platform]
cluster = "h100-4node"
[[instances]]
name = "prefill"
role = "prefill"
count = 4
[[instances]]
name = "decode"
role = "decode"
count = 8
max_num_seqs = 32
[[instances]]
name = "mixed"
count = 2
[routing]
policy = "power_of_two"
[routing.decode]
policy = "random"
[workload]
generator = "chat"
num_requests = 300
rate = 30
[output]
path = ""
)";
  auto s = config::load_scenario(options);
  auto a = test::run_generated(s);
  auto b = test::run_generated(s);
  REQUIRE(a.requests.size() == 300);
  REQUIRE(a.requests.size() == b.requests.size());
  CHECK(first_difference(a.requests, b.requests) == "");
  int handed_off = 0, mixed = 0;
  for (const auto& r : a.requests) {
    CHECK(r.status == results::RequestStatus::completed);
    if (r.prefill_instance >= 0) {
      ++handed_off;
      CHECK(r.prefill_instance < 4);
      CHECK(r.decode_instance >= 4);
      CHECK(r.decode_instance < 12);
      CHECK(r.kv_transfer_end > r.kv_transfer_start);
      CHECK(r.kv_transfer_start >= r.first_token);
      CHECK(r.finish > r.kv_transfer_end);
    } else if (r.instance >= 12) {
      ++mixed;
    }
  }
  CHECK(handed_off > 0);
  CHECK(mixed > 0);
}

TEST_CASE("P/D config: a prefill group without a decode group is an error naming the group's role") {
  const std::string error = config_error(two_groups("mixed"));
  CHECK(error.find("instances[0].role") != std::string::npos);
  CHECK(error.find("a \"prefill\" group needs at least one \"decode\" group") != std::string::npos);
}

TEST_CASE("P/D config: a decode group without a prefill group is an error") {
  std::string text = two_groups("decode");
  text.replace(text.find("role = \"prefill\""), 16, "role = \"mixed\"");
  const std::string error = config_error(text);
  CHECK(error.find("instances[1].role") != std::string::npos);
  CHECK(error.find("a \"decode\" group needs at least one \"prefill\" group") != std::string::npos);
}

TEST_CASE("P/D config: prefill and decode groups serving different models are an error naming both") {
  std::string text = two_groups("decode");
  text.replace(text.find("name = \"d\""), 10, "name = \"d\"\nmodel = \"qwen2.5-7b\"");
  const std::string error = config_error(text);
  CHECK(error.find("instances[1].model") != std::string::npos);
  CHECK(error.find("prefill and decode groups hand KV to each other, so they serve the same model") !=
        std::string::npos);
}

TEST_CASE("P/D config: a role typo lists the valid roles") {
  const std::string error = config_error(two_groups("decoder"));
  CHECK(error.find("instances[1].role") != std::string::npos);
  CHECK(error.find("expected \"mixed\", \"prefill\" or \"decode\"") != std::string::npos);
}

TEST_CASE("P/D config: an unknown decode router is an error listing the routers") {
  const std::string error = config_error(two_groups("decode", "[routing.decode]\npolicy = \"nearest\"\n"));
  CHECK(error.find("routing.decode.policy") != std::string::npos);
  CHECK(error.find("least_loaded") != std::string::npos);
}

TEST_CASE("P/D config: routing.decode without prefill and decode groups is an error") {
  const std::string error = config_error("[routing.decode]\npolicy = \"round_robin\"\n");
  CHECK(error.find("routing.decode") != std::string::npos);
  CHECK(error.find("no [[instances]] group has role") != std::string::npos);
}

TEST_CASE("P/D config: the CLI exits with status 2 on a prefill group without decode") {
  test::ScratchDir dir;
  const auto config = dir.write("pd.toml", two_groups("mixed"));
  const auto r = test::run_kvsim(dir, {"run", "--quiet", config, "-o", ""});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("pd.toml") != std::string::npos);
  CHECK(r.err.find("instances[0].role") != std::string::npos);
}

TEST_CASE("P/D: multi-step planning changes no result, with decode-side preemptions") {
  const auto scenario = [](bool multi_step) {
    config::LoadOptions options;
    const std::string knob = std::string("multi_step = ") + (multi_step ? "true" : "false") + "\n";
    options.config_text = R"([platform]
cluster = "h100-4node"
[[instances]]
name = "prefill"
role = "prefill"
count = 2
)" + knob + R"([[instances]]
name = "decode"
role = "decode"
count = 4
kv_blocks = 2200
)" + knob + R"([workload]
generator = "chat"
num_requests = 1000
rate = 60
[output]
path = ""
)";
    return config::load_scenario(options);
  };
  auto off = scenario(false);
  auto on = scenario(true);
  const auto a = test::run_generated(off);
  const auto b = test::run_generated(on);
  REQUIRE(a.requests.size() == 1000);
  REQUIRE(b.requests.size() == 1000);
  CHECK(first_difference(a.requests, b.requests) == "");
  std::uint32_t preempted = 0;
  for (const auto& r : b.requests) preempted += r.decode_instance >= 0 ? r.preemptions : 0;
  CHECK(preempted > 0);  // the 2200-block decode pools overflow: preempted sequences recompute there
}

TEST_CASE("P/D: a request the decode instances can never hold is rejected at arrival") {
  // The prefill pool holds the 2000-token prompt; the decode pools hold 100 blocks (1600
  // tokens), so the request could never decode: rejected when it arrives, not after its prefill.
  config::LoadOptions options;
  options.config_text = R"([platform]
cluster = "h100-4node"
[[instances]]
name = "prefill"
role = "prefill"
count = 1
[[instances]]
name = "decode"
role = "decode"
count = 1
kv_blocks = 100
[workload]
generator = "chat"
num_requests = 1
[output]
path = ""
)";
  auto s = config::load_scenario(options);
  auto out = test::run_with(s, {lone_request(0, 0.0, 1), test::make_request(1, 1.0, 64, 4, test::contents(9000, 4))});
  REQUIRE(out.requests.size() == 2);
  CHECK(out.requests[0].status == results::RequestStatus::rejected);
  CHECK(out.requests[0].instance == 0);
  CHECK(out.requests[0].first_token == -1);
  CHECK(out.requests[1].status == results::RequestStatus::completed);
  CHECK(out.requests[1].decode_instance == 1);
}

TEST_CASE("P/D: the prefill side's blocks stay pinned until the decode side has read them") {
  // One prefill instance of 130 blocks (node0-gpu0), one decode instance (node0-gpu1). Two
  // 125-block prompts arrive together: A is prefilled, B waits for memory. A's blocks are
  // released only when its KV has crossed NVLink (T = B / 450 GB/s + 2 us), so B's prefill
  // starts at prefill + T and its first token comes at 2 x prefill + T.
  config::LoadOptions options;
  options.config_text = R"([platform]
cluster = "h100-4node"
[[instances]]
name = "prefill"
role = "prefill"
count = 1
kv_blocks = 130
[[instances]]
name = "decode"
role = "decode"
count = 1
[kvcache]
transfer_efficiency = 1
[workload]
generator = "chat"
num_requests = 1
[output]
path = ""
)";
  auto s = config::load_scenario(options);
  auto out = test::run_with(s, {lone_request(0, 0.0, 1), lone_request(1, 0.0, 100000)});
  REQUIRE(out.requests.size() == 2);
  const double prefill = prefill_step(s);
  const double transfer = double(kInput) * s.model.kv_bytes_per_token() / 450e9 + 2e-6;
  CHECK(out.requests[0].ttft == doctest::Approx(prefill).epsilon(1e-9));
  CHECK(out.requests[0].kv_transfer_end == doctest::Approx(prefill + transfer).epsilon(1e-9));
  CHECK(out.requests[1].ttft == doctest::Approx(2 * prefill + transfer).epsilon(1e-9));
  CHECK(out.requests[1].status == results::RequestStatus::completed);
}
