// Summary statistics: numpy-compatible percentiles, which requests count towards which
// figure, and the JSON/table renderings. Expected values are worked out by hand in comments.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/results/records.hpp"

using kvsim::results::Percentiles;
using kvsim::results::RequestRecord;
using kvsim::results::RequestStatus;
using kvsim::results::Summary;

namespace {

RequestRecord record(RequestStatus status, double ttft, double tpot, double e2e,
                     std::uint32_t input, std::uint32_t output, std::uint32_t cached,
                     std::uint32_t preemptions) {
  RequestRecord r;
  r.status = status;
  r.ttft = ttft;
  r.tpot = tpot;
  r.e2e = e2e;
  r.input_tokens = input;
  r.output_tokens = output;
  r.cached_tokens = cached;
  r.preemptions = preemptions;
  return r;
}

// Five requests: three completed (one of them a single-token answer), one rejected, one
// unfinished that already produced its first token.
std::vector<RequestRecord> mixed_records() {
  return {
      record(RequestStatus::completed, 0.1, 0.01, 0.2, 100, 11, 50, 1),
      record(RequestStatus::completed, 0.3, 0.03, 0.5, 200, 6, 0, 0),
      record(RequestStatus::completed, 0.2, 0.0, 0.2, 100, 1, 100, 0),
      record(RequestStatus::rejected, -1, -1, -1, 5000, 10, 0, 0),
      record(RequestStatus::unfinished, 0.5, -1, -1, 300, 20, 300, 2),
  };
}

// Value following `"key":` in a one-line JSON text, parsed as a double; NaN when absent.
double json_value(const std::string& json, const std::string& key_path) {
  const auto at = json.find(key_path);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + at + key_path.size(), nullptr);
}

}  // namespace

TEST_CASE("to_string names every request status") {
  CHECK(std::string(to_string(RequestStatus::completed)) == "completed");
  CHECK(std::string(to_string(RequestStatus::rejected)) == "rejected");
  CHECK(std::string(to_string(RequestStatus::unfinished)) == "unfinished");
}

TEST_CASE("percentiles interpolate linearly between closest ranks like numpy") {
  SUBCASE("1..10, given out of order") {
    // index = 9 q: p50 → 4.5 → 5 + 0.5 = 5.5; p90 → 8.1 → 9.1; p99 → 8.91 → 9.91.
    const Percentiles p = kvsim::results::percentiles({10, 3, 1, 7, 5, 2, 9, 4, 8, 6});
    CHECK(p.p50 == doctest::Approx(5.5).epsilon(1e-15));
    CHECK(p.p90 == doctest::Approx(9.1).epsilon(1e-15));
    CHECK(p.p99 == doctest::Approx(9.91).epsilon(1e-15));
    CHECK(p.mean == doctest::Approx(5.5).epsilon(1e-15));
  }
  SUBCASE("two values") {
    // index = q: p90 = 1 + 0.9 * (3 - 1) = 2.8.
    const Percentiles p = kvsim::results::percentiles({3, 1});
    CHECK(p.p50 == doctest::Approx(2.0));
    CHECK(p.p90 == doctest::Approx(2.8));
    CHECK(p.p99 == doctest::Approx(2.98));
    CHECK(p.mean == doctest::Approx(2.0));
  }
  SUBCASE("bit-identical to numpy where naive interpolation is an ulp off") {
    // numpy interpolates from the upper neighbour when the weight is >= 0.5:
    // 2.3 - (2.3 - 0.1) * (1 - 0.9) rounds to 2.08 exactly, whereas 0.1 + 2.2 * 0.9 gives
    // 2.0799999999999996 (numpy.percentile([0.1, 2.3], 90) == 2.08).
    CHECK(kvsim::results::percentiles({0.1, 2.3}).p90 == 2.08);
    CHECK(kvsim::results::percentiles({0.2, 0.7}).p90 == 0.65);
  }
  SUBCASE("a single value is every percentile") {
    const Percentiles p = kvsim::results::percentiles({7.25});
    CHECK(p.p50 == 7.25);
    CHECK(p.p90 == 7.25);
    CHECK(p.p99 == 7.25);
    CHECK(p.mean == 7.25);
  }
  SUBCASE("empty input gives zeros") {
    const Percentiles p = kvsim::results::percentiles({});
    CHECK(p.p50 == 0);
    CHECK(p.p90 == 0);
    CHECK(p.p99 == 0);
    CHECK(p.mean == 0);
  }
  SUBCASE("NaN propagates as numpy does") {
    const Percentiles p = kvsim::results::percentiles({1, std::nan(""), 3});
    CHECK(std::isnan(p.p50));
    CHECK(std::isnan(p.mean));
  }
  SUBCASE("mean of many equal values stays exact") {
    // A naive running sum of 0.1 a million times is off by ~1e-12 relative; compensated
    // summation returns the value itself.
    const Percentiles p = kvsim::results::percentiles(std::vector<double>(1000000, 0.1));
    CHECK(p.mean == 0.1);
  }
}

TEST_CASE("summarize counts statuses and takes latencies over completed requests only") {
  const std::vector<RequestRecord> records = mixed_records();
  const Summary s = kvsim::results::summarize(records, 10.0, 0.5);

  CHECK(s.requests == 5);
  CHECK(s.completed == 3);
  CHECK(s.rejected == 1);
  CHECK(s.unfinished == 1);
  CHECK(s.preemptions == 3);  // 1 + 2, over all requests
  CHECK(s.sim_duration == 10.0);
  CHECK(s.throughput_rps == doctest::Approx(0.3));       // 3 completed / 10 s
  CHECK(s.output_tokens_per_s == doctest::Approx(1.8));  // (11 + 6 + 1) / 10 s

  // ttft over {0.1, 0.3, 0.2} (the unfinished 0.5 is excluded): sorted 0.1 0.2 0.3,
  // p90 at index 1.8 → 0.2 + 0.8 * 0.1 = 0.28, p99 at 1.98 → 0.298.
  CHECK(s.ttft.p50 == doctest::Approx(0.2));
  CHECK(s.ttft.p90 == doctest::Approx(0.28));
  CHECK(s.ttft.p99 == doctest::Approx(0.298));
  CHECK(s.ttft.mean == doctest::Approx(0.2));

  // tpot over {0.01, 0.03}: the one-token request's 0 is excluded (else p50 would be 0.01).
  CHECK(s.tpot.p50 == doctest::Approx(0.02));
  CHECK(s.tpot.p90 == doctest::Approx(0.028));
  CHECK(s.tpot.mean == doctest::Approx(0.02));

  // e2e over {0.2, 0.5, 0.2}: sorted 0.2 0.2 0.5, p90 at 1.8 → 0.2 + 0.8 * 0.3 = 0.44.
  CHECK(s.e2e.p50 == doctest::Approx(0.2));
  CHECK(s.e2e.p90 == doctest::Approx(0.44));
  CHECK(s.e2e.mean == doctest::Approx(0.3));

  // (50 + 0 + 100) cached / (100 + 200 + 100) input over completed requests.
  CHECK(s.prefix_hit_ratio == doctest::Approx(0.375));
  CHECK(s.wall_time == 0.5);
  CHECK(s.requests_per_wall_second == doctest::Approx(10.0));  // 5 released / 0.5 s
}

TEST_CASE("summarize guards every division by zero") {
  SUBCASE("no records, no time") {
    const Summary s = kvsim::results::summarize({}, 0.0, 0.0);
    CHECK(s.requests == 0);
    CHECK(s.throughput_rps == 0);
    CHECK(s.output_tokens_per_s == 0);
    CHECK(s.prefix_hit_ratio == 0);
    CHECK(s.requests_per_wall_second == 0);
    CHECK(s.ttft.p99 == 0);
  }
  SUBCASE("only rejected requests, zero durations") {
    const std::vector<RequestRecord> records = {
        record(RequestStatus::rejected, -1, -1, -1, 100, 10, 0, 0)};
    const Summary s = kvsim::results::summarize(records, 0.0, 0.0);
    CHECK(s.rejected == 1);
    CHECK(s.completed == 0);
    CHECK(s.throughput_rps == 0);
    CHECK(s.prefix_hit_ratio == 0);  // no completed input tokens
    CHECK(s.e2e.mean == 0);
    CHECK(s.requests_per_wall_second == 0);
  }
}

TEST_CASE("summary JSON is one object on one line with round-tripping numbers") {
  const std::vector<RequestRecord> records = mixed_records();
  const Summary s = kvsim::results::summarize(records, 10.0, 0.5);
  std::ostringstream out;
  kvsim::results::print_summary_json(out, s);
  const std::string json = out.str();

  REQUIRE(!json.empty());
  CHECK(json.front() == '{');
  CHECK(json.find('\n') == json.size() - 1);
  CHECK(json[json.size() - 2] == '}');

  for (const char* key : {"\"requests\":5,", "\"completed\":3,", "\"rejected\":1,",
                          "\"unfinished\":1,", "\"preemptions\":3,", "\"sim_duration\":",
                          "\"throughput_rps\":", "\"output_tokens_per_s\":", "\"ttft\":{\"p50\":",
                          "\"tpot\":{\"p50\":", "\"e2e\":{\"p50\":", "\"prefix_hit_ratio\":",
                          "\"wall_time\":", "\"requests_per_wall_second\":"}) {
    CAPTURE(key);
    CHECK(json.find(key) != std::string::npos);
  }
  // Shortest round-trip form: parsing the text gives back the very same doubles, and 0.2 is
  // written as 0.2 (not %.17g's 0.20000000000000001).
  CHECK(json_value(json, "\"throughput_rps\":") == s.throughput_rps);
  CHECK(json_value(json, "\"ttft\":{\"p50\":") == s.ttft.p50);
  CHECK(json_value(json, "\"ttft\":{\"p50\":" + std::string("0.2,\"p90\":")) == s.ttft.p90);
  CHECK(json_value(json, "\"prefix_hit_ratio\":") == 0.375);
  CHECK(json.find("null") == std::string::npos);
}

TEST_CASE("summary JSON writes null for values that are not finite") {
  Summary s;
  s.ttft.p50 = std::nan("");
  s.wall_time = std::numeric_limits<double>::infinity();
  s.tpot.mean = -std::numeric_limits<double>::infinity();
  std::ostringstream out;
  kvsim::results::print_summary_json(out, s);
  const std::string json = out.str();
  CHECK(json.find("\"ttft\":{\"p50\":null,") != std::string::npos);
  CHECK(json.find("\"wall_time\":null,") != std::string::npos);
  CHECK(json.find("\"mean\":null},\"e2e\"") != std::string::npos);
  CHECK(json.find("nan") == std::string::npos);
  CHECK(json.find("inf") == std::string::npos);
}

TEST_CASE("summary table shows each section with latencies in milliseconds") {
  const std::vector<RequestRecord> records = mixed_records();
  const Summary s = kvsim::results::summarize(records, 10.0, 0.5);
  std::ostringstream out;
  kvsim::results::print_summary_table(out, s);
  const std::string table = out.str();

  CHECK(table.find("released 5") != std::string::npos);
  CHECK(table.find("completed 3") != std::string::npos);
  CHECK(table.find("0.300 req/s") != std::string::npos);
  CHECK(table.find("latency (ms)") != std::string::npos);
  // ttft row: 0.2 s, 0.28 s, 0.298 s, 0.2 s in ms, right-aligned in 12-character columns.
  CHECK(table.find("  ttft             200.000     280.000     298.000     200.000\n") !=
        std::string::npos);
  CHECK(table.find("prefix hit ratio 37.50 %") != std::string::npos);
  CHECK(table.find("wall time 0.500 s") != std::string::npos);
  CHECK(table.find("10.00 simulated requests per wall-second") != std::string::npos);
}

TEST_CASE("summary: per-class figures split the requests by service class, by hand") {
  // Online (class 0): completed TTFTs 1, 2, 3 s (e2e 4, 5, 6 s; tpot 0.1, 0.2, 0.3 s; 10
  // output tokens each) and one rejected. Offline (class 1): completed TTFTs 10 and 30 s
  // (100 output tokens each, 2 preemptions on one). Duration 100 s, no window, TTFT bound
  // of 2.5 s: online attainment 2/4 (the rejected one misses), offline 0/2.
  std::vector<RequestRecord> rows;
  for (int i = 1; i <= 3; ++i) rows.push_back(record(RequestStatus::completed, i, 0.1 * i, 3 + i, 50, 10, 0, 0));
  rows.push_back(record(RequestStatus::rejected, -1, -1, -1, 50, 10, 0, 0));
  rows.push_back(record(RequestStatus::completed, 10, 0.5, 60, 500, 100, 0, 2));
  rows.push_back(record(RequestStatus::completed, 30, 0.5, 80, 500, 100, 0, 0));
  rows[4].service_class = rows[5].service_class = 1;
  kvsim::results::SummaryOptions options;
  kvsim::results::SloBound bound;
  bound.metric = kvsim::results::SloMetric::ttft;
  bound.percentile = 99;
  bound.limit = 2.5;
  options.slo = {bound};
  kvsim::results::SummaryBuilder builder(options);
  for (const auto& r : rows) builder.add(r);
  const Summary s = builder.finish(100.0, 1.0);
  REQUIRE(s.classes.size() == 2);
  const auto& online = s.classes[0];
  const auto& offline = s.classes[1];
  CHECK(online.service_class == 0);
  CHECK(online.requests == 4);
  CHECK(online.completed == 3);
  CHECK(online.rejected == 1);
  CHECK(online.ttft_p50 == 2.0);
  CHECK(online.ttft_p99 == doctest::Approx(2.98));  // 1 + (3 - 1) * 0.99 ranks: 2 + 0.98
  CHECK(online.e2e_p50 == 5.0);
  CHECK(online.tpot_p50 == doctest::Approx(0.2));
  CHECK(online.output_tokens_per_s == doctest::Approx(30.0 / 100.0));
  CHECK(online.slo_attainment == doctest::Approx(0.5));
  CHECK(online.goodput_rps == doctest::Approx(2.0 / 100.0));
  CHECK(online.goodput_tokens_per_s == doctest::Approx(20.0 / 100.0));
  CHECK(offline.service_class == 1);
  CHECK(offline.requests == 2);
  CHECK(offline.preemptions == 2);
  CHECK(offline.ttft_p50 == 20.0);
  CHECK(offline.ttft_p99 == doctest::Approx(29.8));
  CHECK(offline.output_tokens_per_s == doctest::Approx(2.0));
  CHECK(offline.slo_attainment == 0.0);
  CHECK(offline.goodput_rps == 0.0);
  // The run as a whole: 2 of 6 meet the targets.
  CHECK(s.slo_attainment == doctest::Approx(2.0 / 6.0));
}
