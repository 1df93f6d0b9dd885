// SLOs, the steady-state window and overload detection through the simulator and the real
// binary: rows flagged by arrival time, --slo and [slo] reaching the summary, --strict's
// exit status on a clearly overloaded and a clearly stable run, and bad bounds as input errors.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/sim/cli_helpers.hpp"
#include "tests/sim/sim_fixture.hpp"

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

TEST_CASE("cli: --slo and [slo] bounds reach the JSON summary, the command line winning") {
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
