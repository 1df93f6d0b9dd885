// Workload characterisation (workloads/analysis/trace_stats): every statistic of a small
// hand-made trace, worked out by hand below, plus the JSON shape other tools rely on.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/util/error.hpp"
#include "workloads/analysis/trace_stats.hpp"
#include "workloads/analysis/u64_map.hpp"
#include "workloads/vector_source.hpp"

using namespace kvsim::workload;

namespace {

Request req(double arrival, std::uint64_t session, std::uint32_t turn, std::uint16_t type, std::uint32_t input,
            std::uint32_t output, std::vector<BlockId> blocks) {
  static std::uint64_t next_id = 0;
  Request r;
  r.id = next_id++;
  r.arrival = arrival;
  r.session = session;
  r.turn = turn;
  r.category = type;
  r.input_tokens = input;
  r.output_tokens = output;
  r.blocks = std::move(blocks);
  return r;
}

// Block size 4. Types: 0 = "text", 1 = "image". Blocks A..G; A is identity 0 (the map's
// reserved key). Chained identities: every block list is a prefix path A-B-C-D or A-E.
constexpr BlockId A = 0, B = 2, C = 3, D = 4, E = 5, F = 6, G = 7;

//  #  t(s)  sess turn type  in out blocks    hits (interval, last toucher)
//  R0  0     1   1   text  10  5  A B C     -
//  R1 10     2   1   text   8  3  A B       A,B (10, R0 text_1)
//  R2 10.25  3   1   image  7  7  A B       A,B (0.25, R1 text_1)  <- under 0.3 s
//  R3 30     1   2   text  16  2  A B C D   A,B (19.75, R2 image_1); C (30, R0 text_1)
//  R4 40     4   1   image 44  1  (none)    11 anonymous blocks, all misses
//  R5 50     3   2   image  6  4  A E       A (20, R3 text_2)
//  R6 50     5  12   text   5  9  F G       -      (turn 12: category text_5+)
//  R7 55     6   1   text   8  6  A B       A (5, R5 image_2); B (25, R3 text_2)
std::vector<Request> hand_trace() {
  return {
      req(0, 1, 1, 0, 10, 5, {A, B, C}),  req(10, 2, 1, 0, 8, 3, {A, B}),    req(10.25, 3, 1, 1, 7, 7, {A, B}),
      req(30, 1, 2, 0, 16, 2, {A, B, C, D}), req(40, 4, 1, 1, 44, 1, {}),    req(50, 3, 2, 1, 6, 4, {A, E}),
      req(50, 5, 12, 0, 5, 9, {F, G}),    req(55, 6, 1, 0, 8, 6, {A, B}),
  };
}

TraceStats hand_stats(double min_reuse = 0.3) {
  VectorSource source(hand_trace(), {"text", "image"});
  StatsOptions options;
  options.block_size = 4;
  options.min_reuse = min_reuse;
  return compute_trace_stats(source, options);
}

const CategoryReuse& category(const TraceStats& s, const std::string& name) {
  for (const auto& c : s.categories)
    if (c.category == name) return c;
  FAIL("no category " << name);
  throw;
}

// Top-level keys of a one-line JSON object, in order.
std::vector<std::string> top_level_keys(const std::string& json) {
  std::vector<std::string> keys;
  int depth = 0;
  bool in_string = false;
  std::string current;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        current += json[++i];
      } else if (c == '"') {
        in_string = false;
        if (depth == 1 && i + 1 < json.size() && json[i + 1] == ':') keys.push_back(current);
      } else {
        current += c;
      }
    } else if (c == '"') {
      in_string = true;
      current.clear();
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return keys;
}

// A source that may go backwards in time and reports dropped lines.
class ScriptedSource final : public Source {
 public:
  ScriptedSource(std::vector<Request> requests, std::vector<std::pair<std::string, std::uint64_t>> report)
      : requests_(std::move(requests)), report_(std::move(report)) {}
  std::optional<Request> next() override {
    if (next_ == requests_.size()) return std::nullopt;
    return requests_[next_++];
  }
  const std::vector<std::string>& categories() const override { return names_; }
  std::vector<std::pair<std::string, std::uint64_t>> report() const override { return report_; }

 private:
  std::vector<Request> requests_;
  std::vector<std::pair<std::string, std::uint64_t>> report_;
  std::vector<std::string> names_{"api"};
  std::size_t next_ = 0;
};

}  // namespace

TEST_CASE("trace stats: counts, arrival process and lengths of a hand-made trace") {
  const TraceStats s = hand_stats();
  CHECK(s.requests == 8);
  CHECK(s.sessions == 6);  // sessions 1..6
  CHECK(s.span == 55.0);
  CHECK(s.rate == doctest::Approx(8.0 / 55.0));
  // Gaps 10, 0.25, 19.75, 10, 10, 0, 5: mean 55/7; Σg² = 100 + 0.0625 + 390.0625 + 100 + 100
  // + 0 + 25 = 715.125, population variance 715.125/7 − (55/7)² = 40.426020, std 6.358146,
  // CV = 6.358146 / 7.857143 = 0.809219.
  CHECK(s.interarrival_cv == doctest::Approx(0.809219).epsilon(1e-5));
  // Inputs sorted 5 6 7 8 8 10 16 44 (sum 104). numpy linear: p50 at index 3.5 → 8;
  // p90 at 6.3 → 16 + 0.3·28 = 24.4; p99 at 6.93 → 16 + 0.93·28 = 42.04.
  CHECK(s.input_tokens.mean == 13.0);
  CHECK(s.input_tokens.p50 == 8.0);
  CHECK(s.input_tokens.p90 == doctest::Approx(24.4));
  CHECK(s.input_tokens.p99 == doctest::Approx(42.04));
  CHECK(s.input_tokens.max == 44.0);
  // Outputs sorted 1 2 3 4 5 6 7 9 (sum 37): p50 4.5; p90 7 + 0.3·2 = 7.6; p99 7 + 0.93·2 = 8.86.
  CHECK(s.output_tokens.mean == 37.0 / 8);
  CHECK(s.output_tokens.p50 == 4.5);
  CHECK(s.output_tokens.p90 == doctest::Approx(7.6));
  CHECK(s.output_tokens.p99 == doctest::Approx(8.86));
  CHECK(s.output_tokens.max == 9.0);
  // text: R0 R1 R3 R6 R7; image: R2 R4 R5.
  REQUIRE(s.types.size() == 2);
  CHECK(s.types[0].first == "text");
  CHECK(s.types[0].second == 5.0 / 8);
  CHECK(s.types[1].first == "image");
  CHECK(s.types[1].second == 3.0 / 8);
  // Turn 1: R0 R1 R2 R4 R7; turn 2: R3 R5; turn 12: R6.
  CHECK(s.turns[0] == 5.0 / 8);
  CHECK(s.turns[1] == 2.0 / 8);
  CHECK(s.turns[2] == 0.0);
  CHECK(s.turns[3] == 0.0);
  CHECK(s.turns[4] == 1.0 / 8);
}

TEST_CASE("trace stats: ideal hit ratios, unique blocks and reuse skew") {
  const TraceStats s = hand_stats();
  CHECK(s.block_size == 4);
  // Requested: 3 + 2 + 2 + 4 + ceil(44/4) = 11 + 2 + 2 + 2 = 28. Hits: R1 2, R2 2, R3 3, R5 1, R7 2.
  CHECK(s.requested_blocks == 28);
  CHECK(s.hit_blocks == 10);
  CHECK(s.ideal_block_hit_ratio == 10.0 / 28);
  // Hit tokens: R1 min(8, 8) + R2 min(8, 7) + R3 min(12, 16) + R5 min(4, 6) + R7 min(8, 8) = 39;
  // inputs sum to 104.
  CHECK(s.hit_tokens == 39);
  CHECK(s.ideal_token_hit_ratio == 39.0 / 104);
  // Unique: A..G (7) + R4's 11 anonymous blocks. Accesses: A 6, B 5, C 2, others 1: reused A B C.
  CHECK(s.unique_blocks == 18);
  CHECK(s.reused_blocks == 3);
  CHECK(s.reused_block_fraction == 3.0 / 18);
  // Reuses A 5, B 4, C 1 (total 10). Top 1 %: ceil(0.18) = 1 block → 5/10; top 10 %:
  // ceil(1.8) = 2 blocks → 9/10.
  CHECK(s.top1pct_reuse_share == 0.5);
  CHECK(s.top10pct_reuse_share == 0.9);
}

TEST_CASE("trace stats: reuse intervals, per category fit and the same-prompt rule") {
  const TraceStats s = hand_stats();
  // Every hit: 0.25 0.25 5 10 10 19.75 19.75 20 25 30 (sum 140).
  // p50 at index 4.5 → (10 + 19.75)/2; p90 at 8.1 → 25 + 0.1·5; p99 at 8.91 → 25 + 0.91·5.
  CHECK(s.reuse_interval.count == 10);
  CHECK(s.reuse_interval.mean == 14.0);
  CHECK(s.reuse_interval.p50 == 14.875);
  CHECK(s.reuse_interval.p90 == doctest::Approx(25.5));
  CHECK(s.reuse_interval.p99 == doctest::Approx(29.55));
  CHECK(s.short_reuses == 2);  // R2's two 0.25 s hits

  // By last toucher, intervals >= 0.3 s only. Categories in source order, turns ascending;
  // only those with requests appear (no image_5+, no text_3...).
  std::vector<std::string> names;
  for (const auto& c : s.categories) names.push_back(c.category);
  CHECK(names == std::vector<std::string>{"text_1", "text_2", "text_5+", "image_1", "image_2"});

  // text_1 (R0 R1 R7, 3 + 2 + 2 = 7 blocks requested): 10 10 (R1 on R0's), 30 (R3's C on R0's);
  // R2's 0.25 s hits on R1's are left out. λ = 1/(50/3 − 10) = 0.15; p = 3/7.
  const auto& text1 = category(s, "text_1");
  CHECK(text1.accesses == 7);
  CHECK(text1.interval.count == 3);
  CHECK(text1.interval.mean == doctest::Approx(50.0 / 3));
  CHECK(text1.interval.p50 == 10.0);
  CHECK(text1.interval.min == 10.0);
  CHECK(text1.lambda == doctest::Approx(0.15));
  CHECK(text1.p_reuse == 3.0 / 7);
  // text_2 (R3, 4 blocks): 20 (R5's A), 25 (R7's B). λ = 1/(22.5 − 20) = 0.4; p = 2/4.
  const auto& text2 = category(s, "text_2");
  CHECK(text2.interval.count == 2);
  CHECK(text2.interval.mean == 22.5);
  CHECK(text2.interval.p50 == 22.5);
  CHECK(text2.interval.min == 20.0);
  CHECK(text2.lambda == doctest::Approx(0.4));
  CHECK(text2.p_reuse == 0.5);
  // text_5+ (R6, 2 blocks): never reused; undefined statistics are NaN.
  const auto& text5 = category(s, "text_5+");
  CHECK(text5.accesses == 2);
  CHECK(text5.interval.count == 0);
  CHECK(std::isnan(text5.interval.mean));
  CHECK(std::isnan(text5.lambda));
  CHECK(text5.p_reuse == 0.0);
  // image_1 (R2 2 + R4 11 = 13 blocks): 19.75 19.75 (R3's A B on R2's). mean = min: λ undefined.
  const auto& image1 = category(s, "image_1");
  CHECK(image1.accesses == 13);
  CHECK(image1.interval.count == 2);
  CHECK(image1.interval.mean == 19.75);
  CHECK(image1.interval.min == 19.75);
  CHECK(std::isnan(image1.lambda));
  CHECK(image1.p_reuse == 2.0 / 13);
  // image_2 (R5, 2 blocks): 5 (R7's A).
  const auto& image2 = category(s, "image_2");
  CHECK(image2.interval.count == 1);
  CHECK(image2.interval.p50 == 5.0);
  CHECK(image2.p_reuse == 0.5);

  // Per type: text = 10 10 30 20 25 (sorted 10 10 20 25 30: median 20, mean 19);
  // image = 19.75 19.75 5 (median 19.75, mean 44.5/3).
  REQUIRE(s.reuse_by_type.size() == 2);
  CHECK(s.reuse_by_type[0].type == "text");
  CHECK(s.reuse_by_type[0].interval.count == 5);
  CHECK(s.reuse_by_type[0].interval.p50 == 20.0);
  CHECK(s.reuse_by_type[0].interval.mean == 19.0);
  CHECK(s.reuse_by_type[1].type == "image");
  CHECK(s.reuse_by_type[1].interval.count == 3);
  CHECK(s.reuse_by_type[1].interval.p50 == 19.75);
  CHECK(s.reuse_by_type[1].interval.mean == doctest::Approx(44.5 / 3));
}

TEST_CASE("trace stats: min_reuse 0 keeps same-prompt reuses in the fits") {
  const TraceStats s = hand_stats(0.0);
  CHECK(s.short_reuses == 0);
  // text_1 gains R2's two 0.25 s hits: 0.25 0.25 10 10 30, mean 50.5/5 = 10.1, min 0.25,
  // λ = 1/9.85, p = 5/7. Hit ratios do not change.
  const auto& text1 = category(s, "text_1");
  CHECK(text1.interval.count == 5);
  CHECK(text1.interval.mean == doctest::Approx(10.1));
  CHECK(text1.interval.min == 0.25);
  CHECK(text1.interval.p50 == 10.0);
  CHECK(text1.lambda == doctest::Approx(1 / 9.85));
  CHECK(text1.p_reuse == 5.0 / 7);
  CHECK(s.hit_blocks == 10);
  CHECK(s.reuse_interval.count == 10);
}

TEST_CASE("trace stats: hit provenance by session and by turn") {
  const TraceStats s = hand_stats();
  // Same session only for R3's C (session 1, last touched by R0 of session 1): 1 of 10.
  CHECK(s.hits_same_session_share == 0.1);
  CHECK(s.hits_cross_session_share == 0.9);
  // Turn-1 requests found R1 2 + R2 2 + R7 2 = 6; turn-2 requests R3 3 + R5 1 = 4.
  CHECK(s.hits_single_turn_share == 0.6);
  CHECK(s.hits_multi_turn_share == 0.4);
}

TEST_CASE("trace stats: JSON has exactly the documented keys and hand-checked values") {
  const TraceStats s = hand_stats();
  std::ostringstream out;
  print_trace_stats_json(out, s);
  const std::string json = out.str();
  CHECK(top_level_keys(json) ==
        std::vector<std::string>{"requests", "sessions", "span", "rate", "interarrival_cv", "input_tokens",
                                 "output_tokens", "types", "turns", "block_size", "requested_blocks",
                                 "ideal_block_hit_ratio", "ideal_token_hit_ratio", "unique_blocks",
                                 "reused_block_fraction", "top1pct_reuse_share", "top10pct_reuse_share",
                                 "reuse_interval", "reuse_interval_by_type", "categories", "hits_same_session_share",
                                 "hits_cross_session_share", "hits_single_turn_share", "hits_multi_turn_share",
                                 "report"});
  CHECK(json.back() == '\n');
  CHECK(json.find('\n') == json.size() - 1);
  CHECK(json.find("\"input_tokens\":{\"mean\":13,\"p50\":8,") != std::string::npos);
  CHECK(json.find("\"types\":{\"text\":0.625,\"image\":0.375}") != std::string::npos);
  CHECK(json.find("\"turns\":{\"1\":0.625,\"2\":0.25,\"3-5\":0,\"6-10\":0,\">10\":0.125}") != std::string::npos);
  CHECK(json.find("\"reuse_interval\":{\"count\":10,\"mean\":14,\"p50\":14.875,") != std::string::npos);
  CHECK(json.find("\"reuse_interval_by_type\":{\"text\":{\"count\":5,\"p50\":20,\"mean\":19},") != std::string::npos);
  CHECK(json.find("\"text_2\":{\"count\":2,\"mean\":22.5,\"p50\":22.5,\"min\":20,\"lambda\":0.4") != std::string::npos);
  // Undefined values are null, never NaN or inf.
  CHECK(json.find("\"text_5+\":{\"count\":0,\"mean\":null,\"p50\":null,\"min\":null,\"lambda\":null,\"p_reuse\":0}") !=
        std::string::npos);
  CHECK(json.find("nan") == std::string::npos);
  CHECK(json.find("inf") == std::string::npos);
  CHECK(json.find("\"report\":{}}") != std::string::npos);

  std::ostringstream table;
  print_trace_stats_table(table, s);
  CHECK(table.str().find("text_5+") != std::string::npos);
  CHECK(table.str().find("unique blocks 18") != std::string::npos);
}

TEST_CASE("trace stats: source report is passed through and bad sources are refused") {
  // Two requests of 3 tokens at block size 2 without identities: 2 unique blocks each.
  ScriptedSource good({req(1, 7, 1, 0, 3, 1, {}), req(2, 7, 2, 0, 3, 1, {})}, {{"bad_lines", 3}, {"failed", 1}});
  StatsOptions options;
  options.block_size = 2;
  const TraceStats s = compute_trace_stats(good, options);
  CHECK(s.requested_blocks == 4);
  CHECK(s.unique_blocks == 4);
  CHECK(s.hit_blocks == 0);
  CHECK(s.reused_block_fraction == 0.0);
  CHECK(s.top1pct_reuse_share == 0.0);
  CHECK(s.interarrival_cv == 0.0);  // a single gap has no spread
  std::ostringstream out;
  print_trace_stats_json(out, s);
  CHECK(out.str().find("\"report\":{\"bad_lines\":3,\"failed\":1}}") != std::string::npos);

  ScriptedSource backwards({req(5, 1, 1, 0, 3, 1, {1}), req(4, 2, 1, 0, 3, 1, {2})}, {});
  CHECK_THROWS_AS(compute_trace_stats(backwards, options), kvsim::InputError);
  ScriptedSource unnamed({req(5, 1, 1, 3, 3, 1, {1})}, {});
  CHECK_THROWS_AS(compute_trace_stats(unnamed, options), kvsim::InputError);
  options.block_size = 0;
  ScriptedSource any({}, {});
  CHECK_THROWS_AS(compute_trace_stats(any, options), std::invalid_argument);
}

TEST_CASE("U64Map keeps every key through growth, including key 0") {
  U64Map<std::uint32_t> map(16);
  for (std::uint64_t k = 0; k < 5000; ++k) {
    auto [value, inserted] = map.insert_one(k * 7);
    CHECK(inserted);
    *value = static_cast<std::uint32_t>(k);
  }
  CHECK(map.size() == 5000);
  for (std::uint64_t k = 0; k < 5000; ++k) {
    auto [value, inserted] = map.insert_one(k * 7);
    CHECK_FALSE(inserted);
    CHECK(*value == k);
  }
  std::uint64_t sum = 0, count = 0;
  map.for_each([&](std::uint64_t key, std::uint32_t value) {
    CHECK(key == std::uint64_t{value} * 7);
    sum += value;
    ++count;
  });
  CHECK(count == 5000);
  CHECK(sum == 4999ULL * 5000 / 2);
}

TEST_CASE("trace stats: length percentiles of many shuffled values, with repeats") {
  // Inputs 1..1000 in a shuffled order, outputs 7 everywhere but 1000 at one request. numpy
  // 'linear' on 1000 sorted values: p50 at index 499.5 -> (500 + 501) / 2; p90 at 899.1 ->
  // 900 + 0.1; p99 at 989.01 -> 990 + 0.01; outputs: every percentile 7, max 1000.
  std::vector<std::uint32_t> inputs(1000);
  for (std::uint32_t i = 0; i < 1000; ++i) inputs[i] = i + 1;
  std::mt19937 rng(3);
  std::shuffle(inputs.begin(), inputs.end(), rng);
  std::vector<Request> requests;
  for (std::uint32_t i = 0; i < 1000; ++i) requests.push_back(req(i, i, 1, 0, inputs[i], i == 400 ? 1000 : 7, {}));
  VectorSource source(std::move(requests), {"text"});
  const TraceStats s = compute_trace_stats(source, StatsOptions{});
  CHECK(s.input_tokens.p50 == doctest::Approx(500.5).epsilon(1e-12));
  CHECK(s.input_tokens.p90 == doctest::Approx(900.1).epsilon(1e-12));
  CHECK(s.input_tokens.p99 == doctest::Approx(990.01).epsilon(1e-12));
  CHECK(s.input_tokens.max == 1000);
  CHECK(s.input_tokens.mean == 500.5);
  CHECK(s.output_tokens.p50 == 7);
  CHECK(s.output_tokens.p99 == 7);
  CHECK(s.output_tokens.max == 1000);
}
