// SLO bounds: parsing their names, evaluating them over a run's requests, and the summary's
// steady-state window. Every expected figure is worked out by hand in the comments.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/results/records.hpp"
#include "sim/results/slo.hpp"

using namespace kvsim::results;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

SloBound bound(const std::string& name, double limit) {
  SloBound b;
  REQUIRE(parse_slo_name(name, b) == "");
  b.limit = limit;
  return b;
}

RequestRecord completed(double arrival, double ttft, double tpot, double e2e, std::uint32_t output) {
  RequestRecord r;
  r.status = RequestStatus::completed;
  r.arrival = arrival;
  r.first_token = arrival + ttft;
  r.finish = arrival + e2e;
  r.ttft = ttft;
  r.tpot = tpot;
  r.e2e = e2e;
  r.output_tokens = output;
  return r;
}
}  // namespace

TEST_CASE("SLO names: metric, percentile or mean") {
  SloBound b;
  CHECK(parse_slo_name("ttft.p99", b) == "");
  CHECK(b.metric == SloMetric::ttft);
  CHECK(b.percentile == 99);
  CHECK(b.name() == "ttft.p99");
  CHECK(parse_slo_name("e2e.p99.9", b) == "");
  CHECK(b.metric == SloMetric::e2e);
  CHECK(b.percentile == 99.9);
  CHECK(b.name() == "e2e.p99.9");
  CHECK(parse_slo_name("tpot.mean", b) == "");
  CHECK(b.metric == SloMetric::tpot);
  CHECK(b.is_mean());
  CHECK(b.name() == "tpot.mean");
  CHECK(parse_slo_name("ttft.p100", b) == "");
}

TEST_CASE("SLO names: every malformed name says what is wrong") {
  SloBound b;
  CHECK(parse_slo_name("ttfb.p99", b).find("unknown SLO metric \"ttfb\"") != std::string::npos);
  CHECK(parse_slo_name("ttft", b).find("bad SLO statistic \"\"") != std::string::npos);
  for (const char* name : {"ttft.99", "ttft.p", "ttft.p9x", "ttft.p99.", "ttft.p.9", "ttft.p99.9.9", "ttft.median"})
    CHECK_MESSAGE(parse_slo_name(name, b).find("bad SLO statistic") != std::string::npos, name);
  CHECK(parse_slo_name("ttft.p0", b).find("outside (0, 100]") != std::string::npos);
  CHECK(parse_slo_name("ttft.p100.5", b).find("outside (0, 100]") != std::string::npos);
  std::string name, value;
  CHECK(split_slo_assignment("ttft.p99=2s", name, value) == "");
  CHECK(name == "ttft.p99");
  CHECK(value == "2s");
  CHECK(split_slo_assignment("ttft.p99", name, value).find("expected METRIC.STAT=DURATION") != std::string::npos);
  CHECK(split_slo_assignment("ttft.p99=", name, value).find("expected METRIC.STAT=DURATION") != std::string::npos);
}

TEST_CASE("SLO statistic: numpy's linear percentile, infinite when an unserved request carries weight") {
  // Sorted 1..5: p90 at index 4 * 0.9 = 3.6, between 4 and 5: 4.6.
  CHECK(slo_statistic({5, 1, 4, 2, 3}, 90) == doctest::Approx(4.6).epsilon(1e-15));
  CHECK(slo_statistic({5, 1, 4, 2, 3}, -1) == 3);
  // 1, 2, 3, inf: p50 at index 1.5 (2.5); p67 at index 2.01 gives the infinite value weight.
  CHECK(slo_statistic({1, 2, 3, kInf}, 50) == 2.5);
  CHECK(std::isinf(slo_statistic({1, 2, 3, kInf}, 67)));
  // 1, inf, inf, inf, inf: p0 sits exactly on the 1 (index 0), no weight on its neighbour.
  CHECK(slo_statistic({kInf, 1, kInf, kInf, kInf}, 0) == 1);
  CHECK(std::isinf(slo_statistic({1, kInf}, -1)));
  CHECK(slo_statistic({}, 99) == 0);
}

TEST_CASE("SLO tally: ten requests with TTFTs 0.1 s .. 1.0 s against ttft.p90 = 0.9 s") {
  SloTally tally({bound("ttft.p90", 0.9)});
  for (int k = 1; k <= 10; ++k) tally.add(true, k / 10.0, 0.01, 1.0, 5);
  const SloOutcome out = tally.finish();
  // p90: index 9 * 0.9 = 8.1, between 0.9 and 1.0: 0.91 > 0.9, so the bound fails by 10 ms.
  REQUIRE(out.records.size() == 1);
  CHECK(std::string(out.records[0].name) == "ttft.p90");
  CHECK(out.records[0].measured == doctest::Approx(0.91).epsilon(1e-12));
  CHECK(out.records[0].margin == doctest::Approx(-0.01).epsilon(1e-9));
  CHECK(out.records[0].pass == 0);
  CHECK_FALSE(out.pass);
  // Per request: 9 of the 10 have a TTFT within 0.9 s.
  CHECK(out.counted == 10);
  CHECK(out.good == 9);
  CHECK(out.attainment == doctest::Approx(0.9));
  CHECK(out.good_output_tokens == 45);
}

TEST_CASE("SLO tally: rejected and unfinished requests count as infinitely late and never meet the SLOs") {
  SloTally tally({bound("ttft.p99", 2.0), bound("ttft.p98", 2.0)});
  for (int k = 0; k < 99; ++k) tally.add(true, 0.001, 0.01, 0.5, 10);
  tally.add(false, -1, -1, -1, 10);  // rejected
  const SloOutcome out = tally.finish();
  // 100 values, the largest infinite. p99: index 98.01, weight 0.01 on the infinite one: fails.
  // p98: index 97.02, between two 1 ms values: 1 ms, passes.
  CHECK(std::isinf(out.records[0].measured));
  CHECK(out.records[0].pass == 0);
  CHECK(out.records[1].measured == doctest::Approx(0.001));
  CHECK(out.records[1].pass == 1);
  CHECK(out.attainment == doctest::Approx(0.99));
  CHECK(out.good_output_tokens == 990);
}

TEST_CASE("SLO tally: a metric's per-request target is its loosest bound, one-token answers have no TPOT") {
  SloTally tally({bound("tpot.p50", 0.05), bound("tpot.p99", 0.1), bound("e2e.mean", 10)});
  tally.add(true, 0.1, 0.07, 3, 20);   // tpot 70 ms: above the p50 bound, within the p99 one: good
  tally.add(true, 0.1, 0.2, 3, 20);    // tpot 200 ms: bad
  tally.add(true, 0.1, 0.0, 0.1, 1);   // one token: no TPOT, good
  tally.add(true, 0.1, 0.01, 12, 20);  // e2e 12 s above the mean bound: bad
  const SloOutcome out = tally.finish();
  CHECK(out.good == 2);
  CHECK(out.attainment == doctest::Approx(0.5));
  // TPOT over the three multi-token answers {0.01, 0.07, 0.2}: p50 = 0.07 (fails 0.05), p99 at
  // index 1.98: 0.07 + 0.98 * 0.13 = 0.1974 (fails 0.1). e2e mean (3 + 3 + 0.1 + 12) / 4 = 4.525.
  CHECK(out.records[0].measured == doctest::Approx(0.07));
  CHECK(out.records[1].measured == doctest::Approx(0.1974));
  CHECK(out.records[2].measured == doctest::Approx(4.525));
  CHECK(out.records[2].pass == 1);
  CHECK_FALSE(out.pass);
}

TEST_CASE("SLO tally: without bounds every completed request meets the SLOs and the run passes") {
  SloTally tally;
  tally.add(true, 5, 1, 50, 3);
  tally.add(false, -1, -1, -1, 3);
  const SloOutcome out = tally.finish();
  CHECK(out.pass);
  CHECK(out.records.empty());
  CHECK(out.attainment == 0.5);
}

TEST_CASE("summary window: warm-up and cool-down rows are left out, percentiles and rates recomputed by hand") {
  // Ten requests arriving at t = 0..9 s with TTFT t/10 + 0.1 s (0.1 .. 1.0), e2e 2 s, 11 tokens.
  // Warm-up 2 s and cool-down 3 s: the window holds arrivals 2..6 (arrival 6 = last 9 - 3 is
  // in; (6, 9] is the cool-down), whose rows the recorder flags; rows 0, 1, 7, 8, 9 are out.
  std::vector<RequestRecord> rows;
  for (int t = 0; t < 10; ++t) {
    RequestRecord r = completed(t, t / 10.0 + 0.1, 0.05, 2.0, 11);
    r.in_window = t >= 2 && t <= 6;
    rows.push_back(r);
  }
  SummaryBuilder with_window({{bound("ttft.p50", 0.5)}, 2.0, 3.0});
  for (const auto& r : rows) with_window.add(r);
  const Summary s = with_window.finish(11.0, 1.0);
  CHECK(s.requests == 5);
  CHECK(s.excluded == 5);
  // TTFTs in the window {0.3, 0.4, 0.5, 0.6, 0.7}: p50 0.5, p90 at index 3.6: 0.66, mean 0.5.
  CHECK(s.ttft.p50 == doctest::Approx(0.5));
  CHECK(s.ttft.p90 == doctest::Approx(0.66));
  CHECK(s.ttft.mean == doctest::Approx(0.5));
  // Window length 9 - 3 - 2 = 4 s: throughput 5 / 4, goodput 3 (TTFT <= 0.5 s) / 4.
  CHECK(s.window_duration == doctest::Approx(4.0));
  CHECK(s.throughput_rps == doctest::Approx(1.25));
  CHECK(s.slo_attainment == doctest::Approx(0.6));
  CHECK(s.goodput_rps == doctest::Approx(0.75));
  CHECK(s.goodput_tokens_per_s == doctest::Approx(33.0 / 4));
  CHECK(s.slo_pass == 1);
  CHECK(s.requests_per_wall_second == doctest::Approx(10.0));

  // Without the window: all ten, TTFT p50 of 0.1..1.0 at index 4.5: 0.55 (fails 0.5), rates
  // over the 11 s simulated.
  for (auto& r : rows) r.in_window = 1;
  SummaryBuilder without({{bound("ttft.p50", 0.5)}});
  for (const auto& r : rows) without.add(r);
  const Summary all = without.finish(11.0, 1.0);
  CHECK(all.requests == 10);
  CHECK(all.excluded == 0);
  CHECK(all.ttft.p50 == doctest::Approx(0.55));
  CHECK(all.slo_pass == 0);
  CHECK(all.slo_attainment == doctest::Approx(0.5));  // TTFTs 0.1 .. 0.5
  CHECK(all.window_duration == 11.0);
  CHECK(all.throughput_rps == doctest::Approx(10.0 / 11));
}
