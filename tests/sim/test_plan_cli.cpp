// `kvsim plan` end to end on scenarios whose answers follow by hand.
//
// Both use Llama-3.1-8B on H100 instances serving one request at a time
// (instances.max_num_seqs = 1), requests of 64 prompt and 100 output tokens with distinct
// prefixes. One request then occupies an instance for S = one 64-token prefill plus 99
// single-sequence decode steps, about 100 x 7.9 ms = 0.79 s (`kvsim step --decode 1@100`),
// and its TTFT is its queueing time plus the prefill step (~9 ms).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <string>

#include "tests/sim/cli_helpers.hpp"

namespace {

using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

std::string scenario(const std::string& trace, int count) {
  return "[platform]\nnode = \"dgx-h100\"\n[model]\ncard = \"llama-3.1-8b\"\n[instances]\ncount = " +
         std::to_string(count) + "\nmax_num_seqs = 1\n[routing]\npolicy = \"round_robin\"\n[workload]\ntrace = \"" + trace +
         "\"\n";
}

// Mooncake-format lines (timestamps in ms), one distinct 512-token prefix hash each.
std::string trace(int requests, int spacing_ms) {
  std::string text;
  for (int i = 0; i < requests; ++i)
    text += "{\"timestamp\": " + std::to_string(i * spacing_ms) +
            ", \"input_length\": 64, \"output_length\": 100, \"hash_ids\": [" + std::to_string(1000 + i) + "]}\n";
  return text;
}

double number_after(const std::string& text, const std::string& prefix) {
  const std::regex pattern(prefix + "([0-9.]+)");
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, pattern), "no \"" << prefix << "\" in:\n" << text);
  return std::stod(m[1].str());
}

}  // namespace

TEST_CASE("kvsim plan: the SLO flips at 8 instances for a burst of 16 requests") {
  // 16 requests at t = 0 over k round-robin instances: ceil(16/k) waves, the last starting
  // after (ceil(16/k) - 1)·S. TTFT p99 is about 2S = 1.6 s for k = 6 or 7 (3 waves), S = 0.8 s
  // for k = 8..15 (2 waves): with a 1.2 s bound the smallest passing count is 8.
  ScratchDir dir;
  dir.write("burst.jsonl", trace(16, 0));
  dir.write("burst.toml", scenario("burst.jsonl", 8));
  const auto r = run_kvsim(dir, {"plan", "burst.toml", "--slo", "ttft.p99=1.2s", "--vary", "instances.count=1..16",
                                 "--seeds", "2", "--jobs", "2"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("answer: instances.count=8\n") != std::string::npos);
  CHECK(r.out.find("smallest instances.count: 8 (7 fails)") != std::string::npos);
  // Gallop 1, 2, 4, 8 then bisect (4, 8]: 6, 7 — six probes, within 2·log2(16) = 8.
  CHECK(number_after(r.out, "probes per search: at most ") == 6);
  CHECK(r.out.find("12 simulations run, 2 seeds per probe") != std::string::npos);
  // Margins: 3 waves at 7 instances (~2S = 1.6 s, over), 2 at 8 (~S = 0.8 s, under); the
  // printed margin is |p99 - bound| / bound. S comes from the step-time model, so it is
  // checked against the wave arithmetic, not to the last digit.
  const double over = number_after(r.out, "attainment 0.875, ttft_p99 "), under = number_after(r.out, "pass, attainment 1, ttft_p99 ");
  CHECK(over == doctest::Approx(2 * under).epsilon(0.02));
  CHECK(under > 0.7);
  CHECK(under < 0.9);
  const std::regex margin("ttft_p99 ([0-9.]+) s \\(([0-9.]+)% (over|under) 1.2 s\\)");
  int margins = 0;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), margin); it != std::sregex_iterator(); ++it, ++margins) {
    const double p99 = std::stod((*it)[1].str()), percent = std::stod((*it)[2].str());
    // Both are printed to 3 significant digits, so each is off by up to half its last digit.
    auto half_ulp = [](const std::string& text) {
      const auto dot = text.find('.');
      return 0.5 * std::pow(10.0, dot == std::string::npos ? 0.0 : -double(text.size() - dot - 1));
    };
    CHECK(std::abs(percent - 100 * std::abs(p99 - 1.2) / 1.2) <=
          100 * half_ulp((*it)[1].str()) / 1.2 + half_ulp((*it)[2].str()) + 1e-9);
    CHECK(((*it)[3].str() == "over") == (p99 > 1.2));
  }
  CHECK(margins == 12);

  // A rerun reuses every probe's files: no simulation runs.
  const auto again = run_kvsim(dir, {"plan", "burst.toml", "--slo", "ttft.p99=1.2s", "--vary", "instances.count=1..16",
                                     "--seeds", "2"});
  CHECK(again.out.find("(0 simulations run") != std::string::npos);

  // No count in range passes: exit 1.
  const auto none = run_kvsim(dir, {"plan", "burst.toml", "--slo", "ttft.p99=1.2s", "--vary", "instances.count=1..5",
                                    "--seeds", "1"});
  CHECK(none.exit_code == 1);
  CHECK(none.out.find("answer: none in the range") != std::string::npos);
}

TEST_CASE("kvsim plan --max-load brackets the saturation rate of one instance") {
  // 40 requests 1 s apart on one instance; speed x divides the gaps. Below 1/S (~1.27/s) no
  // request waits; above, request n waits n·(S - 1/x), so TTFT p99 (about the 39th wait)
  // exceeds 0.5 s once 38.6·(S - 1/x) > 0.5, i.e. x > ~1.29. The bracket must hold that
  // edge, within the 1 % tolerance.
  ScratchDir dir;
  dir.write("steady.jsonl", trace(40, 1000));
  dir.write("steady.toml", scenario("steady.jsonl", 1));
  const auto r = run_kvsim(dir, {"plan", "steady.toml", "--slo", "ttft.p99=0.5s", "--max-load", "workload.speed=0.5..4",
                                 "--tolerance", "0.01", "--seeds", "1"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const double pass = number_after(r.out, "highest workload.speed within SLO: ");
  const double fail = number_after(r.out, "within SLO: [0-9.]+ \\(");
  CHECK(pass >= 1.25);  // at or above the saturation rate 1/S
  CHECK(fail <= 1.32);
  CHECK(fail > pass);
  CHECK(fail - pass <= 0.01 * pass);
}

TEST_CASE("kvsim plan: bad options exit 2") {
  ScratchDir dir;
  CHECK(run_kvsim(dir, {"plan", "--slo", "ttft.p99=1s"}).exit_code == 2);  // nothing to vary
  CHECK(run_kvsim(dir, {"plan", "--vary", "instances.count=4..2"}).exit_code == 2);
  CHECK(run_kvsim(dir, {"plan", "--vary", "instances.count=1..x"}).exit_code == 2);
  CHECK(run_kvsim(dir, {"plan", "--max-load", "1..4", "--vary", "instances.count=1..4"}).exit_code == 2);
  // An invalid setting fails the probe with the run's own error.
  const auto r = run_kvsim(dir, {"plan", "--set", "workload.rate=-1", "--slo", "ttft.p99=1s", "--vary",
                                 "instances.count=1..2", "--seeds", "1"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("workload.rate") != std::string::npos);
}

TEST_CASE("kvsim plan --cost: a list axis searched per value, the cheapest wins") {
  // Serving two requests at a time halves the waves: with max_num_seqs = 2 the burst of 16
  // needs 4 instances (2 waves of 2 per instance; 3 instances give 3 waves), against 8 with
  // max_num_seqs = 1. At $2 per H100-hour: 8 GPUs cost 16 per hour, 4 GPUs 8 per hour.
  ScratchDir dir;
  dir.write("burst.jsonl", trace(16, 0));
  dir.write("burst.toml", scenario("burst.jsonl", 8));
  const auto r = run_kvsim(dir, {"plan", "burst.toml", "--slo", "ttft.p99=1.2s", "--vary", "instances.count=1..16",
                                 "--vary", "instances.max_num_seqs=1,2", "--cost", "--price", "h100-sxm=2", "--seeds", "1"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("smallest instances.count: 8 (7 fails), 8 GPUs, 16 per hour") != std::string::npos);
  CHECK(r.out.find("smallest instances.count: 4 (3 fails), 4 GPUs, 8 per hour") != std::string::npos);
  CHECK(r.out.find("answer: instances.max_num_seqs=2, instances.count=4 (8 per hour, the cheapest)") != std::string::npos);
  // Without a price, --cost is refused before any probe runs.
  const auto unpriced = run_kvsim(dir, {"plan", "burst.toml", "--slo", "ttft.p99=1.2s", "--vary", "instances.count=1..16",
                                        "--cost", "--seeds", "1", "-o", "unpriced"});
  CHECK(unpriced.exit_code == 2);
  CHECK(unpriced.err.find("--cost needs the price of GPU h100-sxm: give --price h100-sxm=") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.file("unpriced")));
}
