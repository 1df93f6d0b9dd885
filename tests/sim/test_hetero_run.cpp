// A heterogeneous run: an H100 group serving Llama-3.1-8B and an H200 group serving
// Qwen2.5-7B at tp=2. Each lone request's TTFT is its prefill step on its own instance's
// step-time model (built here directly from the group's model, GPU card, tp and
// calibration), and each instance's energy row carries its own GPUs.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/sim/cli_helpers.hpp"
#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

config::Scenario hetero_scenario() {
  config::LoadOptions options;
  options.output = "";
  options.config_text = R"([platform]
cluster = "h100-h200-mixed"
[model]
card = "llama-3.1-8b"
[[instances]]
name = "llama-h100"
count = 1
[[instances]]
name = "qwen-h200"
model = "qwen2.5-7b"
gpu = "h200"
count = 1
tp = 2
[routing]
policy = "round_robin"
[workload]
generator = "chat"
num_requests = 1
)";
  return config::load_scenario(options);
}

double prefill_time(const config::InstanceGroupSpec& group, std::uint64_t tokens) {
  const auto perf = compute::make_step_time_model(group.model, group.gpu, group.tp, group.compute);
  compute::BatchShape shape;
  shape.add(0, tokens, true);
  return perf->step_time(shape);
}

}  // namespace

TEST_CASE("hetero run: each instance steps with its own model and GPU, and draws its own GPUs' power") {
  auto scenario = hetero_scenario();
  REQUIRE(scenario.groups.size() == 2);
  std::vector<std::uint64_t> a(63), b(63);
  for (std::uint64_t i = 0; i < 63; ++i) a[i] = 1 + i, b[i] = 1000 + i;
  // round_robin: request 0 to instance 0 (H100), request 1 to instance 1 (H200).
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 1000, 1, a), test::make_request(1, 0.0, 1000, 1, b)});
  REQUIRE(out.requests.size() == 2);
  const double h100 = prefill_time(scenario.groups[0], 1000);
  const double h200 = prefill_time(scenario.groups[1], 1000);
  CHECK(out.requests[0].instance == 0);
  CHECK(out.requests[1].instance == 1);
  CHECK(out.requests[0].ttft == doctest::Approx(h100).epsilon(1e-9));
  CHECK(out.requests[1].ttft == doctest::Approx(h200).epsilon(1e-9));
  // Different models on different cards: the two prefills must not take the same time.
  CHECK(std::abs(h100 - h200) > 1e-5);
  REQUIRE(out.energy.size() == 2);
  CHECK(out.energy[0].gpus == 1);
  CHECK(out.energy[1].gpus == 2);
  CHECK(out.energy[0].idle_watts == doctest::Approx(70.0));   // one H100 card at 70 W idle
  CHECK(out.energy[1].peak_watts == doctest::Approx(1400.0)); // two H200 cards at 700 W
}

TEST_CASE("hetero run: KV tier moves of a tp=1 group are sharded over its one GPU, not the first group's tp") {
  // The first group has tp=2, the second tp=1; with a DRAM tier written on completion and
  // a small HBM, every instance loads and writes KV. Before the tier hierarchy knew each
  // instance's tp, a tp=1 instance's moves were split in the first group's two shards and
  // the second went to a GPU it does not have.
  config::LoadOptions options;
  options.output = "";
  options.config_text = R"([platform]
node = "dgx-h100"
[[instances]]
name = "tp2"
count = 2
tp = 2
kv_blocks = 400
[[instances]]
name = "tp1"
count = 4
tp = 1
kv_blocks = 320
[kvcache.dram]
capacity = "8GiB"
admission = "completion"
[routing]
policy = "round_robin"
[workload]
generator = "chat"
num_requests = 300
)";
  auto scenario = config::load_scenario(options);
  auto out = test::run_generated(scenario);
  std::uint64_t completed = 0;
  for (const auto& r : out.requests) completed += r.status == results::RequestStatus::completed;
  CHECK(completed == 300);
  // Instances 2..5 (tp=1) sit on GPUs 4..7; their moves use only their own PCIe links, and
  // each carried both directions (loads from and writes to the DRAM tier).
  std::uint64_t dram_loaded = 0;
  for (const auto& t : out.tiers)
    if (std::string(t.tier) == "dram") dram_loaded += t.loaded_blocks;
  CHECK(dram_loaded > 0);
  int tp1_links = 0;
  for (const auto& link : out.links) {
    const std::string name = link.name;
    for (const char* gpu : {"node0-gpu4-pcie", "node0-gpu5-pcie", "node0-gpu6-pcie", "node0-gpu7-pcie"})
      if (name.starts_with(gpu) && link.bytes > 0) ++tp1_links;
  }
  CHECK(tp1_links == 8);  // four GPUs x (UP, DOWN)
}

TEST_CASE("hetero run: --trace-steps writes each instance's steps with its own step-time model") {
  test::ScratchDir dir;
  const std::string text = R"([platform]
cluster = "h100-h200-mixed"
[[instances]]
name = "llama-h100"
count = 1
[[instances]]
name = "qwen-h200"
model = "qwen2.5-7b"
gpu = "h200"
count = 1
tp = 2
[routing]
policy = "round_robin"
[workload]
generator = "chat"
num_requests = 2
)";
  const auto config = dir.write("hetero.toml", text);
  const auto trace = (dir.path() / "steps.csv").string();
  const auto r = test::run_kvsim(dir, {"run", "--quiet", config, "-o", "", "--trace-steps", trace});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  config::LoadOptions options;
  options.config_text = text;
  options.output = "";
  const auto scenario = config::load_scenario(options);
  // The first step of each instance prefills its first request alone, from an empty cache:
  // its breakdown is that of a one-sequence prefill of new_tokens on the group's own model.
  std::ifstream in(trace);
  std::string line;
  std::getline(in, line);  // header
  bool seen[2] = {false, false};
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) f.push_back(cell);
    REQUIRE(f.size() == 15);
    const int instance = std::stoi(f[0]);
    if (seen[instance]) continue;
    seen[instance] = true;
    const auto tokens = std::stoull(f[5]);
    REQUIRE(std::stoul(f[3]) == 1);  // one sequence
    const auto& group = scenario.groups[std::size_t(instance)];
    const auto& other = scenario.groups[std::size_t(1 - instance)];
    compute::BatchShape shape;
    shape.add(0, tokens, true);
    const auto own = compute::make_step_time_model(group.model, group.gpu, group.tp, group.compute)->breakdown(shape);
    const auto wrong = compute::make_step_time_model(other.model, other.gpu, other.tp, other.compute)->breakdown(shape);
    CHECK(std::stod(f[8]) == doctest::Approx(own.linear).epsilon(1e-8));
    CHECK(std::stod(f[10]) == doctest::Approx(own.attention).epsilon(1e-8));
    CHECK(std::stod(f[12]) == doctest::Approx(own.allreduce).epsilon(1e-8));
    CHECK(std::abs(own.linear - wrong.linear) > 1e-6);
    CHECK(std::stod(f[2]) - std::stod(f[1]) == doctest::Approx(own.total()).epsilon(1e-8));
  }
  CHECK(seen[0]);
  CHECK(seen[1]);
}

TEST_CASE("hetero run: the GPU-hours of the cost count each group's tp") {
  // One instance at tp=2 and one at tp=1: 3 serving GPUs. At 3600 per GPU-hour the cost is
  // 3 x the simulated seconds (nothing else is priced).
  test::ScratchDir dir;
  const auto config = dir.write("cost.toml", R"([platform]
node = "dgx-h100"
[[instances]]
count = 1
tp = 2
[[instances]]
count = 1
tp = 1
[cost]
gpu_hour = 3600
[workload]
generator = "chat"
num_requests = 20
)");
  const auto r = test::run_kvsim(dir, {"run", "--quiet", "--json", config, "-o", ""});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto number = [&](const std::string& key) {
    const auto at = r.out.find("\"" + key + "\":");
    REQUIRE(at != std::string::npos);
    return std::stod(r.out.substr(at + key.size() + 3));
  };
  CHECK(number("cost") == doctest::Approx(3 * number("sim_duration")).epsilon(1e-12));
}
