// The calibration test of the workload presets: each preset, generated with seed 1 through
// `kvsim trace synth`, measured by `kvsim trace stats --json`, must land within 10%
// (relative) of the published statistics of the Bailian traces (ATC'25) it models.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>


#include "tests/sim/cli_helpers.hpp"

using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

// Numbers are read from the stats JSON by key path ("a/b/c": nested objects) with a tiny
// scanner: the keys looked up are unique along each path.
double json_number(const std::string& json, const std::string& path) {
  std::size_t pos = 0;
  std::string rest = path;
  while (true) {
    const auto dot = rest.find('/');
    const std::string key = "\"" + rest.substr(0, dot) + "\":";
    pos = json.find(key, pos);
    if (pos == std::string::npos) return std::nan("");
    pos += key.size();
    if (dot == std::string::npos) break;
    rest = rest.substr(dot + 1);
  }
  return std::stod(json.substr(pos));
}

void check_within(const std::string& json, const std::string& path, double want) {
  const double got = json_number(json, path);
  INFO(path << ": got " << got << ", want " << want);
  if (want == 0)
    CHECK(got == 0);
  else
    CHECK(std::abs(got / want - 1) <= 0.10);
}

std::string preset_stats(const ScratchDir& dir, const std::string& preset) {
  const auto synth = run_kvsim(dir, {"trace", "synth", preset, "--seed", "1", "-o", dir.file(preset + ".jsonl")});
  REQUIRE_MESSAGE(synth.exit_code == 0, synth.err);
  // --min-reuse 0: the published medians count every hit, however soon after the last access.
  const auto stats =
      run_kvsim(dir, {"trace", "stats", dir.file(preset + ".jsonl"), "--json", "--min-reuse", "0"});
  REQUIRE_MESSAGE(stats.exit_code == 0, stats.err);
  return stats.out;
}

}  // namespace

TEST_CASE("preset to-c reproduces the Bailian to-C trace statistics within 10 percent") {
  ScratchDir dir;
  const std::string s = preset_stats(dir, "to-c");
  check_within(s, "span", 7200);
  check_within(s, "rate", 6);
  check_within(s, "types/text", 0.74);
  check_within(s, "types/search", 0.19);
  check_within(s, "types/image", 0.04);
  check_within(s, "types/file", 0.035);
  check_within(s, "turns/1", 0.54);
  check_within(s, "turns/2", 0.21);
  check_within(s, "turns/3-5", 0.20);
  check_within(s, "turns/6-10", 0.05);
  check_within(s, "turns/>10", 0.01);
  check_within(s, "input_tokens/mean", 2331);
  check_within(s, "input_tokens/p50", 1046);
  check_within(s, "input_tokens/p99", 14359);
  check_within(s, "output_tokens/mean", 430);
  check_within(s, "output_tokens/p50", 375);
  check_within(s, "ideal_block_hit_ratio", 0.58);
  check_within(s, "reuse_interval_by_type/text/p50", 48);
  check_within(s, "reuse_interval_by_type/image/p50", 5);
  check_within(s, "reuse_interval_by_type/search/p50", 112);
  check_within(s, "reuse_interval_by_type/file/p50", 152);
  check_within(s, "hits_same_session_share", 0.71);
}

TEST_CASE("preset to-b reproduces the Bailian to-B trace statistics within 10 percent") {
  ScratchDir dir;
  const std::string s = preset_stats(dir, "to-b");
  check_within(s, "span", 7200);
  check_within(s, "rate", 24);
  check_within(s, "types/api", 0.87);
  check_within(s, "types/text", 0.13);
  check_within(s, "turns/1", 1.0);
  check_within(s, "input_tokens/mean", 915);
  check_within(s, "input_tokens/p50", 574);
  check_within(s, "input_tokens/p99", 6294);
  check_within(s, "output_tokens/mean", 92);
  check_within(s, "output_tokens/p50", 39);
  check_within(s, "ideal_block_hit_ratio", 0.54);
  check_within(s, "reuse_interval_by_type/api/p50", 2.3);
  check_within(s, "reuse_interval_by_type/text/p50", 39);
  check_within(s, "hits_same_session_share", 0);

  // The hit-ratio-vs-capacity curve of LRU, at caches of 1% and 10% of the unique blocks.
  // The targets are the real trace's as issue 9 states them relative to the earlier preset
  // (0.443 at 1%, 0.561 at 10%, seed 1): at 1% about 15% higher, 0.51; at 10% close to it,
  // 0.56. The ideal (infinite cache) end of the curve is checked above.
  const double unique = json_number(s, "unique_blocks");
  REQUIRE(unique > 1e6);
  const auto one = std::to_string(std::uint64_t(unique / 100)), ten = std::to_string(std::uint64_t(unique / 10));
  const auto c = run_kvsim(dir, {"cache", dir.file("to-b.jsonl"), "--policy", "lru", "--capacity", one + "," + ten,
                                 "--unit", "blocks", "--json"});
  REQUIRE_MESSAGE(c.exit_code == 0, c.err);
  const auto at_one = c.out.find("\"block_hit_ratio\": ");
  const auto at_ten = c.out.find("\"block_hit_ratio\": ", at_one + 1);
  REQUIRE(at_ten != std::string::npos);
  const double lru_one = std::stod(c.out.substr(at_one + 19)), lru_ten = std::stod(c.out.substr(at_ten + 19));
  INFO("lru at 1%: " << lru_one << ", at 10%: " << lru_ten);
  CHECK(std::abs(lru_one / 0.51 - 1) <= 0.10);
  CHECK(std::abs(lru_ten / 0.56 - 1) <= 0.10);
  // The curve's shape, which is what the issue found wrong: the share of the ideal hits a
  // 1% cache keeps, 0.51 / 0.54 in the real trace (the preset with 200 clients at Zipf 1
  // kept 0.486 / 0.574, 10.3% less).
  const double ideal = json_number(s, "ideal_block_hit_ratio");
  INFO("lru at 1% / ideal: " << lru_one / ideal);
  CHECK(std::abs(lru_one / ideal / (0.51 / 0.54) - 1) <= 0.10);
}
