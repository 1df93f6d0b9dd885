// SLOs, the steady-state window and overload detection through the simulator and the real
// binary: rows flagged by arrival time, --slo and [slo] reaching the summary, --strict's
// exit status on a clearly overloaded and a clearly stable run, and bad bounds as input errors.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/sim/cli_helpers.hpp"
#include "tests/sim/sim_fixture.hpp"

#include <cstdlib>

using namespace kvsim;
using test::run_kvsim;
using test::ScratchDir;

namespace {
// The common part of both load tests: 1,000 single-turn chat requests, no results file.
std::vector<std::string> load_run(const std::string& count, const std::string& rate) {
  return {"run", "--quiet", "--json", "-o", "", "--set", "workload.num_requests=1000", "--set",
          "workload.turns_mean=1", "--set", "instances.count=" + count, "--set", "workload.rate=" + rate};
}
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("window: requests arriving in the warm-up or the cool-down are simulated but flagged out") {
  auto scenario = test::tiny_scenario({"run.warmup=2s", "run.cooldown=3s"});
  std::vector<workload::Request> requests;
  for (int t = 0; t < 10; ++t) requests.push_back(test::make_request(std::uint64_t(t), double(t), 64, 4, {std::uint64_t(100 + t)}));
  const auto out = test::run_with(scenario, requests);
  REQUIRE(out.requests.size() == 10);
  // Last arrival 9 s: the window is [2, 6]; (6, 9] is the cool-down.
  for (const auto& r : out.requests) {
    CHECK(r.status == results::RequestStatus::completed);
    CHECK_MESSAGE(r.in_window == (r.arrival >= 2 && r.arrival <= 6 ? 1 : 0), "arrival ", r.arrival);
  }
}

TEST_CASE("cli: --slo and `slo` table bounds reach the JSON summary, the command line winning") {
  ScratchDir dir;
  dir.write("cfg.toml", "[slo]\nttft.p99 = \"1ms\"\ne2e.mean = \"100s\"\n[workload]\nnum_requests = 200\n");
  const auto r = run_kvsim(dir, {"run", "cfg.toml", "--quiet", "--json", "-o", "", "--slo", "ttft.p99=10s", "--set",
                                 "slo.tpot.p99.9=1ms"});
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "{\"name\":\"e2e.mean\",\"limit\":100,"));
  CHECK(has(r.out, "{\"name\":\"ttft.p99\",\"limit\":10,"));
  // TPOT of an 8B model on an H100 is several ms: the 1 ms bound fails.
  CHECK(has(r.out, "{\"name\":\"tpot.p99.9\",\"limit\":0.001,"));
  CHECK(has(r.out, "\"slo_pass\":0"));
  CHECK(has(r.out, "\"overloaded\":0"));
  const auto strict = run_kvsim(dir, {"run", "cfg.toml", "--quiet", "-o", "", "--strict", "--slo", "ttft.p99=10s"});
  CHECK(strict.exit_code == 0);  // ttft.p99 10 s and e2e.mean 100 s hold
  const auto failing = run_kvsim(dir, {"run", "cfg.toml", "--quiet", "-o", "", "--strict"});
  CHECK(failing.exit_code == 3);  // ttft.p99 1 ms cannot hold
}

TEST_CASE("cli: a clearly overloaded run is flagged and --strict exits 3") {
  ScratchDir dir;
  // One H100 serves about 13 of these requests per second; 60 per second arrive.
  auto args = load_run("1", "60");
  args.push_back("--strict");
  const auto r = run_kvsim(dir, args);
  CHECK(r.exit_code == 3);
  CHECK(has(r.out, "\"overloaded\":1"));
  args = load_run("1", "60");
  args.erase(args.begin() + 1);  // no --quiet: the table (on stderr) says it in words
  CHECK(has(run_kvsim(dir, args).err, "load          OVERLOADED: arrivals exceed capacity"));
}

TEST_CASE("cli: a clearly stable run is not flagged and --strict exits 0") {
  ScratchDir dir;
  auto args = load_run("8", "8");
  args.push_back("--strict");
  const auto r = run_kvsim(dir, args);
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, "\"overloaded\":0"));
  CHECK(has(r.out, "\"slo_pass\":1"));
  CHECK(has(r.out, "\"slo_attainment\":1"));
}

TEST_CASE("cli: bad SLO bounds are input errors naming file, line and field") {
  ScratchDir dir;
  struct Case {
    std::string config;
    std::vector<std::string> extra;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"[slo]\nttfb.p99 = \"2s\"\n", {}, "cfg.toml:2: slo.ttfb.p99: unknown SLO metric \"ttfb\""},
      {"[slo]\nttft.99 = \"2s\"\n", {}, "cfg.toml:2: slo.ttft.99: bad SLO statistic \"99\""},
      {"[slo]\nttft = \"2s\"\n", {}, "cfg.toml:2: slo.ttft: bad SLO statistic"},
      {"[slo]\nttft.p101 = \"2s\"\n", {}, "cfg.toml:2: slo.ttft.p101: SLO percentile p101"},
      {"[slo]\nttft.p99 = \"2GB\"\n", {}, "cfg.toml:2: slo.ttft.p99: expected a duration"},
      {"[slo]\nttft.p99 = \"-2s\"\n", {}, "cfg.toml:2: slo.ttft.p99:"},
      {"", {"--slo", "ttft.p99"}, "--slo"},
      {"", {"--slo", "tpot.p9x=2s"}, "slo.tpot.p9x: bad SLO statistic"},
      {"[run]\nwarmup = \"ten\"\n", {}, "cfg.toml:2: run.warmup: expected a duration"},
  };
  for (const auto& c : cases) {
    dir.write("cfg.toml", c.config);
    std::vector<std::string> args = {"run", "cfg.toml", "--quiet", "-o", "out.h5"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const auto r = run_kvsim(dir, args);
    CHECK_MESSAGE(r.exit_code == 2, c.config, c.extra.empty() ? "" : c.extra.back());
    CHECK_MESSAGE(has(r.err, c.expect), r.err);
    CHECK(!std::filesystem::exists(dir.file("out.h5")));
  }
}

TEST_CASE("energy: one request alone on an idle instance, computed by hand from its steps") {
  auto scenario = test::tiny_scenario({"platform.gpu_spec.idle_watts=100W", "platform.gpu_spec.tdp=600W"});
  const std::uint32_t input = 1000, output = 50;
  const double arrival = 0.5;
  std::vector<std::uint64_t> blocks(63);
  for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = 1 + i;
  const auto out = test::run_with(scenario, {test::make_request(0, arrival, input, output, blocks)});
  REQUIRE(out.energy.size() == 1);
  // Steps: one prefill of 1,000 tokens, then 49 decodes after 1000 + j - 1 tokens. Each
  // uses the GPU for its time minus the CPU overhead.
  auto perf = compute::make_step_time_model(scenario.model, scenario.gpu, scenario.tp, scenario.compute);
  const auto kernel_time = [&](std::uint64_t prior, std::uint64_t chunk) {
    compute::BatchShape shape;
    shape.add(prior, chunk, true);
    const auto b = perf->breakdown(shape);
    return std::pair{b.total(), b.total() - b.overhead};
  };
  double busy = 0, active = 0;
  for (std::uint32_t j = 0; j < output; ++j) {
    const auto [total, kernels] = j == 0 ? kernel_time(0, input) : kernel_time(input + j - 1, 1);
    busy += total;
    active += kernels;
  }
  const auto& e = out.energy[0];
  CHECK(e.busy == doctest::Approx(busy).epsilon(1e-9));
  CHECK(e.active == doctest::Approx(active).epsilon(1e-9));
  // Idle 100 W for the whole run (0.5 s before the arrival included), 500 W more while active.
  CHECK(out.sim_duration == doctest::Approx(arrival + busy).epsilon(1e-9));
  CHECK(e.joules == doctest::Approx(100.0 * (arrival + busy) + 500.0 * active).epsilon(1e-9));
}

TEST_CASE("cli: energy per token and cost per million tokens match hand arithmetic on the run's own figures") {
  ScratchDir dir;
  const auto r = run_kvsim(dir, {"run", "--quiet", "--json", "-o", "", "--set", "workload.num_requests=100", "--set",
                                 "instances.count=2", "--set", "instances.tp=2", "--set", "cost.gpu_hour=3",
                                 "--set", "cost.kwh=0.2"});
  REQUIRE(r.exit_code == 0);
  const auto value = [&](const std::string& key) {
    const auto at = r.out.find("\"" + key + "\":");
    REQUIRE(at != std::string::npos);
    return std::strtod(r.out.c_str() + at + key.size() + 3, nullptr);
  };
  const double joules = value("energy_joules"), duration = value("sim_duration");
  const double tokens = value("output_tokens_per_s") * duration;  // every request completed, no window
  CHECK(value("completed") == 100);
  CHECK(value("average_power_watts") == doctest::Approx(joules / duration).epsilon(1e-12));
  CHECK(value("joules_per_output_token") == doctest::Approx(joules / tokens).epsilon(1e-9));
  // 4 GPUs at 3 per hour, plus the energy at 0.2 per kWh.
  const double cost = 4 * duration / 3600 * 3 + joules / 3.6e6 * 0.2;
  CHECK(value("cost") == doctest::Approx(cost).epsilon(1e-12));
  CHECK(value("cost_per_million_output_tokens") == doctest::Approx(cost / tokens * 1e6).epsilon(1e-9));
  // Between idle (4 x 70 W) and peak (4 x 700 W).
  CHECK(value("average_power_watts") > 280);
  CHECK(value("average_power_watts") < 2800);
}

TEST_CASE("window: hand-made requests with known latencies, percentiles by hand with and without the warm-up") {
  // Five one-token requests, 10 s apart so none waits for another: each TTFT is its prefill
  // step. Inputs 256, 512, 1024, 2048, 4096 tokens, arriving at 0, 10, 20, 30, 40 s.
  auto scenario = test::tiny_scenario({"run.warmup=15s"});
  const std::uint32_t inputs[] = {256, 512, 1024, 2048, 4096};
  std::vector<workload::Request> requests;
  std::vector<double> ttft;
  for (std::uint64_t i = 0; i < 5; ++i) {
    std::vector<std::uint64_t> blocks(inputs[i] / 16);
    for (std::size_t b = 0; b < blocks.size(); ++b) blocks[b] = 1000 * (i + 1) + b;  // nothing shared
    requests.push_back(test::make_request(i, 10.0 * double(i), inputs[i], 1, blocks));
    ttft.push_back(test::step_time(scenario, {{0, inputs[i], true}}));
  }
  const auto out = test::run_with(scenario, requests);
  REQUIRE(out.requests.size() == 5);
  // Warm-up 15 s: the requests at 0 and 10 s are out; prefill time grows with the input, so
  // the counted TTFTs are already sorted: t2 < t3 < t4.
  results::SummaryBuilder windowed({{}, 15.0, 0.0});
  results::SummaryBuilder everything;
  for (const auto& r : out.requests) {
    CHECK(r.ttft == doctest::Approx(ttft[r.id]).epsilon(1e-9));
    windowed.add(r);
    auto all = r;
    all.in_window = 1;
    everything.add(all);
  }
  const auto w = windowed.finish(out.sim_duration, 1);
  CHECK(w.requests == 3);
  CHECK(w.excluded == 2);
  // Three values: p50 = the middle one; p90 at index 1.8 = t3 + 0.8 (t4 - t3).
  CHECK(w.ttft.p50 == doctest::Approx(ttft[3]).epsilon(1e-9));
  CHECK(w.ttft.p90 == doctest::Approx(ttft[3] + 0.8 * (ttft[4] - ttft[3])).epsilon(1e-9));
  CHECK(w.ttft.mean == doctest::Approx((ttft[2] + ttft[3] + ttft[4]) / 3).epsilon(1e-9));
  // Window 15 s .. last arrival 40 s: 25 s.
  CHECK(w.window_duration == doctest::Approx(25.0));
  // All five: p50 = t2; p90 at index 3.6 = t3 + 0.6 (t4 - t3).
  const auto a = everything.finish(out.sim_duration, 1);
  CHECK(a.ttft.p50 == doctest::Approx(ttft[2]).epsilon(1e-9));
  CHECK(a.ttft.p90 == doctest::Approx(ttft[3] + 0.6 * (ttft[4] - ttft[3])).epsilon(1e-9));
  CHECK(a.ttft.mean == doctest::Approx((ttft[0] + ttft[1] + ttft[2] + ttft[3] + ttft[4]) / 5).epsilon(1e-9));
}
