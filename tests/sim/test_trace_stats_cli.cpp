// `kvsim trace stats` end to end: the Mooncake excerpt in tests/golden/ (format detection,
// block-size mapping, counts and lengths), a hand-made kvsim-format trace with reuse whose
// every figure is worked out below, and bad options.
#include <cmath>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "tests/sim/cli_helpers.hpp"

using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

const std::string kMooncake = std::string(KVSIM_SOURCE_DIR) + "/tests/golden/mooncake_sample.jsonl";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Number following `key_path` (which ends with ':') in a one-line JSON text; NaN when absent.
double json_value(const std::string& json, const std::string& key_path) {
  const auto at = json.find(key_path);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + at + key_path.size(), nullptr);
}

// Block size 4. Session 0 is a three-turn text chat (R0 R2 R4), R1 and R3 are search
// requests of their own sessions; R1 repeats R0's prompt 0.1 s later ("same prompt").
//  #  t(s) sess turn type    in out blocks        hits (interval, last toucher)
//  R0  0    0   1   text     8  2  11 12          -
//  R1  0.1  1   1   search   8  3  11 12          11 12 (0.1, R0 text_1)   <- under 0.3 s
//  R2  5    0   2   text    12  4  11 12 13       11 12 (4.9, R1 search_1)
//  R3 20    2   1   search   6  1  (none)         2 anonymous blocks
//  R4 30    0   3   text    16  5  11 12 13 14    11 12 13 (25, R2 text_2), same session
const char* const kHandTrace =
    R"({"format": "kvsim", "version": 1, "block_size": 4, "categories": ["text", "search"]}
{"id": 0, "arrival": 0, "session": 0, "parent": -1, "turn": 1, "type": "text", "input_tokens": 8, "output_tokens": 2, "blocks": [11, 12]}
{"id": 1, "arrival": 0.1, "session": 1, "parent": -1, "turn": 1, "type": "search", "input_tokens": 8, "output_tokens": 3, "blocks": [11, 12]}
{"id": 2, "arrival": 5, "session": 0, "parent": 0, "turn": 2, "type": "text", "input_tokens": 12, "output_tokens": 4, "blocks": [11, 12, 13]}
{"id": 3, "arrival": 20, "session": 2, "parent": -1, "turn": 1, "type": "search", "input_tokens": 6, "output_tokens": 1, "blocks": []}
{"id": 4, "arrival": 30, "session": 0, "parent": 2, "turn": 3, "type": "text", "input_tokens": 16, "output_tokens": 5, "blocks": [11, 12, 13, 14]}
)";

}  // namespace

TEST_CASE("trace stats CLI on the Mooncake excerpt") {
  ScratchDir dir;
  // 40 requests, one session each, 0 to 12.075 s; 1,024 distinct 512-token hashes.
  const auto json = run_kvsim(dir, {"trace", "stats", kMooncake, "--block-size", "512", "--json"});
  REQUIRE_MESSAGE(json.exit_code == 0, json.err);
  const std::string& j = json.out;
  CHECK(json_value(j, "{\"requests\":") == 40);
  CHECK(json_value(j, "\"sessions\":") == 40);
  CHECK(json_value(j, "\"span\":") == doctest::Approx(12.075));
  CHECK(json_value(j, "\"rate\":") == doctest::Approx(40 / 12.075));
  // Inputs sum to 510,654; the 20th and 21st smallest are 687 and 2,752 → p50 1,719.5.
  CHECK(json_value(j, "\"input_tokens\":{\"mean\":") == doctest::Approx(510654.0 / 40));
  CHECK(json_value(j, "\"p50\":") == 1719.5);  // the first p50 is the inputs'
  CHECK(has(j, "\"max\":56397}"));
  CHECK(json_value(j, "\"requested_blocks\":") == 1024);
  CHECK(json_value(j, "\"unique_blocks\":") == 1024);
  CHECK(json_value(j, "\"ideal_block_hit_ratio\":") == 0);
  CHECK(has(j, "\"reuse_interval\":{\"count\":0,\"mean\":null,"));
  CHECK(has(j, "\"turns\":{\"1\":1,"));
  // At the default 16-token blocks the reader maps every request to ceil(input/16) blocks.
  const auto fine = run_kvsim(dir, {"trace", "stats", kMooncake, "--json"});
  REQUIRE(fine.exit_code == 0);
  CHECK(json_value(fine.out, "\"block_size\":") == 16);
  CHECK(json_value(fine.out, "\"requested_blocks\":") == 31934);

  const auto table = run_kvsim(dir, {"trace", "stats", kMooncake, "--block-size", "512"});
  REQUIRE(table.exit_code == 0);
  CHECK(has(table.out, "requests      40   sessions 40"));
  CHECK(has(table.out, "unique blocks 1024"));
}

TEST_CASE("trace stats CLI on a hand-made kvsim trace") {
  ScratchDir dir;
  const std::string trace = dir.write("hand.jsonl", kHandTrace);
  const auto r = run_kvsim(dir, {"trace", "stats", trace, "--block-size", "4", "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string& j = r.out;
  CHECK(json_value(j, "{\"requests\":") == 5);
  CHECK(json_value(j, "\"sessions\":") == 3);
  CHECK(json_value(j, "\"span\":") == 30);
  // Gaps 0.1 4.9 15 10: mean 7.5, deviations −7.4 −2.6 7.5 2.5, variance 124.02/4 = 31.005,
  // std 5.568214, CV 0.742428.
  CHECK(json_value(j, "\"interarrival_cv\":") == doctest::Approx(0.742428).epsilon(1e-5));
  // Inputs sorted 6 8 8 12 16: p90 at index 3.6 → 12 + 0.6·4.
  CHECK(has(j, "\"input_tokens\":{\"mean\":10,\"p50\":8,\"p90\":14.4"));
  CHECK(has(j, "\"types\":{\"text\":0.6,\"search\":0.4}"));
  CHECK(has(j, "\"turns\":{\"1\":0.6,\"2\":0.2,\"3-5\":0.2,"));
  // Requested 2 + 2 + 3 + 2 + 4 = 13, hits 2 + 2 + 3 = 7; hit tokens 8 + 8 + 12 = 28 of 50.
  CHECK(json_value(j, "\"requested_blocks\":") == 13);
  CHECK(json_value(j, "\"ideal_block_hit_ratio\":") == doctest::Approx(7.0 / 13));
  CHECK(json_value(j, "\"ideal_token_hit_ratio\":") == doctest::Approx(0.56));
  // Unique 11 12 13 14 + 2 anonymous; reused 11 (3 reuses) 12 (3) 13 (1). Top 1 % and 10 %
  // are both ceil(0.06) = ceil(0.6) = 1 block: 3 of 7 reuses.
  CHECK(json_value(j, "\"unique_blocks\":") == 6);
  CHECK(json_value(j, "\"reused_block_fraction\":") == 0.5);
  CHECK(json_value(j, "\"top1pct_reuse_share\":") == doctest::Approx(3.0 / 7));
  CHECK(json_value(j, "\"top10pct_reuse_share\":") == doctest::Approx(3.0 / 7));
  // All hits: 0.1 0.1 4.9 4.9 25 25 25, mean 85/7, p50 4.9, p90 (index 5.4) 25.
  CHECK(json_value(j, "\"reuse_interval\":{\"count\":") == 7);
  CHECK(json_value(j, "\"reuse_interval\":{\"count\":7,\"mean\":") == doctest::Approx(85.0 / 7));
  CHECK(has(j, "\"p50\":4.9,\"p90\":25,\"p99\":25},\"reuse_interval_by_type\""));
  CHECK(has(j, "\"reuse_interval_by_type\":{\"text\":{\"count\":3,\"p50\":25,\"mean\":25},"
               "\"search\":{\"count\":2,\"p50\":4.9,\"mean\":4.9}}"));
  // text_1 (R0, 2 blocks): its only reuses are R1's 0.1 s ones, left out. text_2 (R2, 3
  // blocks): 25 ×3, p = 1. search_1 (R1 + R3, 4 blocks): 4.9 ×2, p = 0.5.
  CHECK(has(j, "\"text_1\":{\"count\":0,\"mean\":null,\"p50\":null,\"min\":null,\"lambda\":null,\"p_reuse\":0}"));
  CHECK(has(j, "\"text_2\":{\"count\":3,\"mean\":25,\"p50\":25,\"min\":25,\"lambda\":null,\"p_reuse\":1}"));
  CHECK(has(j, "\"text_3\":{\"count\":0,"));
  CHECK(has(j, "\"search_1\":{\"count\":2,"));
  CHECK(json_value(j, "\"search_1\":{\"count\":2,\"mean\":4.9,\"p50\":4.9,\"min\":"
                      "4.9,\"lambda\":null,\"p_reuse\":") == 0.5);
  // R4's 3 hits are on its own session's blocks; R1's are the only turn-1 hits.
  CHECK(json_value(j, "\"hits_same_session_share\":") == doctest::Approx(3.0 / 7));
  CHECK(json_value(j, "\"hits_single_turn_share\":") == doctest::Approx(2.0 / 7));
  CHECK(json_value(j, "\"hits_multi_turn_share\":") == doctest::Approx(5.0 / 7));

  // --min-reuse 0 puts R1's 0.1 s reuses into text_1: count 2, mean 0.1, p = 2/2.
  const auto all = run_kvsim(dir, {"trace", "stats", trace, "--block-size=4", "--json", "--min-reuse", "0s"});
  REQUIRE(all.exit_code == 0);
  CHECK(json_value(all.out, "\"text_1\":{\"count\":") == 2);
  CHECK(json_value(all.out, "\"text_1\":{\"count\":2,\"mean\":") == doctest::Approx(0.1));
  CHECK(has(all.out, "\"lambda\":null,\"p_reuse\":1},\"text_2\""));
  // 200 ms written as a unit string: the 0.1 s reuses are still left out.
  const auto ms = run_kvsim(dir, {"trace", "stats", trace, "--block-size", "4", "--json", "--min-reuse", "200ms"});
  REQUIRE(ms.exit_code == 0);
  CHECK(json_value(ms.out, "\"text_1\":{\"count\":") == 0);
}

TEST_CASE("trace stats CLI rejects bad options and missing files") {
  ScratchDir dir;
  const auto missing = run_kvsim(dir, {"trace", "stats", dir.file("nope.jsonl")});
  CHECK(missing.exit_code == 2);
  CHECK(has(missing.err, "nope.jsonl"));
  const auto zero = run_kvsim(dir, {"trace", "stats", kMooncake, "--block-size", "0"});
  CHECK(zero.exit_code == 2);
  CHECK(has(zero.err, "--block-size"));
  const auto reuse = run_kvsim(dir, {"trace", "stats", kMooncake, "--min-reuse", "soon"});
  CHECK(reuse.exit_code == 2);
  CHECK(has(reuse.err, "--min-reuse"));
  const auto negative = run_kvsim(dir, {"trace", "stats", kMooncake, "--min-reuse", "-1s"});
  CHECK(negative.exit_code == 2);
  const auto none = run_kvsim(dir, {"trace", "stats"});
  CHECK(none.exit_code == 2);
  const auto unknown = run_kvsim(dir, {"trace", "stats", kMooncake, "--frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK(has(unknown.err, "--frobnicate"));
}
