// `kvsim cache` and `kvsim trace profile` through the real binary, on a hand-made trace in
// kvsim's canonical format (workloads/readers/kvsim.cpp) with hand-derived answers.
#include <doctest/doctest.h>

#include "tests/sim/cli_helpers.hpp"

using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

// 4-token blocks, 8-token requests: A = [11 12] (chat turn 1), B = [21 22] (api turn 1),
// A again at 2 s, B again at 3 s, then a chat turn 2 extending A at 10 s.
const char* const kTrace =
    R"({"format": "kvsim", "version": 1, "block_size": 4, "categories": ["chat", "api"]}
{"id": 0, "arrival": 0, "session": 0, "parent": -1, "turn": 1, "type": "chat", "input_tokens": 8, "output_tokens": 1, "blocks": [11, 12]}
{"id": 1, "arrival": 1, "session": 1, "parent": -1, "turn": 1, "type": "api", "input_tokens": 8, "output_tokens": 1, "blocks": [21, 22]}
{"id": 2, "arrival": 2, "session": 2, "parent": -1, "turn": 1, "type": "chat", "input_tokens": 8, "output_tokens": 1, "blocks": [11, 12]}
{"id": 3, "arrival": 3, "session": 3, "parent": -1, "turn": 1, "type": "api", "input_tokens": 8, "output_tokens": 1, "blocks": [21, 22]}
{"id": 4, "arrival": 10, "session": 0, "parent": 0, "turn": 2, "type": "chat", "input_tokens": 12, "output_tokens": 1, "blocks": [11, 12, 13]}
)";

}  // namespace

TEST_CASE("cli cache: hit ratios per policy and capacity in JSON") {
  ScratchDir dir;
  const std::string trace = dir.write("t.jsonl", kTrace);
  // Capacity 3 blocks (12 tokens). The first four requests are the A B A B trace of
  // test_eviction_known_answers: lru 2 hits, fifo 3. Then [11 12 13] at 10 s:
  //   lru  resident after B: a1 b2 b1 (a1 oldest) -> 11 hits, 12 misses -> 1 more hit: 3 of 11.
  //   fifo resident after B: b2 b1 a2 -> 11 misses, nothing hits: 3 of 11.
  // Ratios print in the shortest form that reads back exactly (3/11: 0.2727272727272727,
  // as Python's repr), not %.17g's 0.27272727272727271.
  const auto r = run_kvsim(dir, {"cache", trace, "--policy", "lru,fifo", "--capacity", "12,1k", "--block-size", "4",
                                 "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("\"requests\": 5") != std::string::npos);
  CHECK(r.out.find("\"block_accesses\": 11") != std::string::npos);
  CHECK(r.out.find("{\"policy\": \"lru\", \"capacity\": \"12\", \"capacity_blocks\": 3, \"block_hit_ratio\": "
                   "0.2727272727272727") != std::string::npos);
  CHECK(r.out.find("\"policy\": \"fifo\", \"capacity\": \"12\", \"capacity_blocks\": 3, \"block_hit_ratio\": "
                   "0.2727272727272727, \"token_hit_ratio\": 0.2727272727272727, \"hit_blocks\": 3") !=
        std::string::npos);
  // 1k tokens = 250 blocks: everything stays, 6 of 11 blocks were seen before.
  CHECK(r.out.find("\"capacity\": \"1k\", \"capacity_blocks\": 250, \"block_hit_ratio\": 0.5454545454545454") !=
        std::string::npos);
}

TEST_CASE("cli cache: capacities in bytes use the model card") {
  ScratchDir dir;
  const std::string trace = dir.write("t.jsonl", kTrace);
  // llama-3.1-8b: 2 (K, V) x 32 layers x 8 KV heads x 128 x 2 bytes = 131072 bytes per token,
  // 524288 per 4-token block: 1MiB = 2 blocks.
  const auto r = run_kvsim(dir, {"cache", trace, "--capacity", "1MiB", "--unit", "bytes", "--block-size", "4", "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("\"capacity_blocks\": 2,") != std::string::npos);
}

TEST_CASE("cli cache: bad options are input errors") {
  ScratchDir dir;
  const std::string trace = dir.write("t.jsonl", kTrace);
  auto r = run_kvsim(dir, {"cache", trace, "--policy", "lru,lruu", "--capacity", "10"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("lru, fifo, lfu, sieve, s3fifo, arc, gdsf, wa, wa-online, opt") != std::string::npos);
  // The culprit is the option, not an "eviction policy: policy" pseudo-source.
  r = run_kvsim(dir, {"cache", trace, "--policy", "bogus", "--capacity", "100"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("kvsim: error: command line: --policy: unknown eviction policy \"bogus\"") != std::string::npos);
  r = run_kvsim(dir, {"cache", trace, "--capacity", "15"});  // 15 tokens < one 16-token block
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("less than one block") != std::string::npos);
  r = run_kvsim(dir, {"cache", trace, "--policy", "wa", "--capacity", "100"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--wa-profile") != std::string::npos);
  r = run_kvsim(dir, {"cache", trace, "--policy", "wa-online:lookahed=3", "--capacity", "100"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("lookahead, once_first, half_life, min_samples") != std::string::npos);
  r = run_kvsim(dir, {"cache", trace});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--capacity") != std::string::npos);
}

TEST_CASE("cli trace profile: per-category model written, read back by wa") {
  ScratchDir dir;
  const std::string trace = dir.write("t.jsonl", kTrace);
  // chat_1: blocks 11, 12 accessed at 0 s and 2 s (2 s reuses, 2 samples), and at 10 s by
  // chat_2 (8 s reuses attributed to chat_1, the last toucher): samples 2, 2, 8, 8 ->
  // mean 5, min 2, lambda 1/3; hits 4 of 4 accesses (11 12 at 2 s and 11 12 at 10 s are
  // chat_1's reuses; chat_1 accessed 4 blocks) -> p = 1.
  // api_1: 21, 22 at 1 s and 3 s: samples 2, 2 -> mean = min, no lambda; p = 2/4.
  // chat_2: 3 accesses, no reuse: p = 0. --until 9 leaves the last request out.
  const auto r = run_kvsim(dir, {"trace", "profile", trace, "--until", "20s", "--block-size", "4", "-o", "wa.toml"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string text = kvsim::test::read_text(dir.file("wa.toml"));
  CHECK(text.find("[category.\"chat_1\"]\nlambda = 0.3333333333333333  # 1/s\np = 1.0\nsamples = 4\naccesses = 4\n") !=
        std::string::npos);
  CHECK(text.find("[category.\"api_1\"]\np = 0.5\nsamples = 2\naccesses = 4\n") != std::string::npos);
  CHECK(text.find("[category.\"chat_2\"]\np = 0.0\nsamples = 0\naccesses = 3\n") != std::string::npos);

  const auto early = run_kvsim(dir, {"trace", "profile", trace, "--until", "9", "--block-size", "4", "-o", "early.toml"});
  REQUIRE_MESSAGE(early.exit_code == 0, early.err);
  const std::string early_text = kvsim::test::read_text(dir.file("early.toml"));
  CHECK(early_text.find("chat_2") == std::string::npos);
  CHECK(early_text.find("[category.\"chat_1\"]\np = 0.5\nsamples = 2\n") != std::string::npos);

  const auto c = run_kvsim(dir, {"cache", trace, "--policy", "wa,wa:lookahead=1s,wa-online,opt", "--wa-profile",
                                 "wa.toml", "--capacity", "3", "--unit", "blocks", "--block-size", "4"});
  REQUIRE_MESSAGE(c.exit_code == 0, c.err);
  CHECK(c.out.find("wa:lookahead=1s") != std::string::npos);

  const auto bad = run_kvsim(dir, {"trace", "profile", trace, "-o", "x.toml"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--until") != std::string::npos);
}

TEST_CASE("cli cache: wa vs lru on hour 2 of a trace with the window options") {
  // --window-start keeps requests from trace time 10 s on, rebased to 0: only the last
  // request of kTrace ([11 12 13] at 10 s), so nothing hits.
  ScratchDir dir;
  const std::string trace = dir.write("t.jsonl", kTrace);
  const auto r = run_kvsim(dir, {"cache", trace, "--capacity", "1k", "--block-size", "4", "--window-start", "10s",
                                 "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("\"requests\": 1,") != std::string::npos);
  CHECK(r.out.find("\"hit_blocks\": 0,") != std::string::npos);
  const auto bad = run_kvsim(dir, {"cache", trace, "--capacity", "1k", "--window-start", "5s", "--window-end", "2s"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--window-end") != std::string::npos);
}

TEST_CASE("cli trace: the command group answers --help and names its subcommands") {
  ScratchDir dir;
  const auto help = run_kvsim(dir, {"trace", "--help"});
  CHECK(help.exit_code == 0);
  for (const char* sub : {"kvsim trace synth", "kvsim trace convert", "kvsim trace stats", "kvsim trace profile"}) {
    CAPTURE(sub);
    CHECK(help.out.find(sub) != std::string::npos);
  }
  const auto bare = run_kvsim(dir, {"trace"});
  CHECK(bare.exit_code == 2);
  CHECK(bare.err.find("needs a subcommand: synth, convert, stats, profile") != std::string::npos);
  const auto wrong = run_kvsim(dir, {"trace", "stat"});
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.err.find("unknown trace subcommand \"stat\"") != std::string::npos);
  for (const char* command : {"run", "list", "describe", "cache"}) {
    CAPTURE(command);
    const auto r = run_kvsim(dir, {command, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: kvsim") != std::string::npos);
  }
}

TEST_CASE("cli trace stats: a header-only trace is 0 requests with a warning") {
  ScratchDir dir;
  const std::string path = dir.write("h.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  const auto r = run_kvsim(dir, {"trace", "stats", path, "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("\"requests\":0,") != std::string::npos);
  CHECK(r.err.find("warning: " + path + ": the trace has a header but no request") != std::string::npos);
}
