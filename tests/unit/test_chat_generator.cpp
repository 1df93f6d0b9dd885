// Tests of the chat workload generator: arrival process, ids and links, token arithmetic
// between turns, prefix block sharing (system prompts and turn-to-turn), limits,
// determinism, the empirical length table, and parsing through config::Section.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"
#include "sim/util/random.hpp"
#include "workloads/source_factory.hpp"
#include "workloads/synth/chat.hpp"

using kvsim::Rng;
using kvsim::workload::ChatGenerator;
using kvsim::workload::ChatParams;
using kvsim::workload::ContentSegment;
using kvsim::workload::LengthModel;
using kvsim::workload::LengthPair;
using kvsim::workload::Request;

namespace {

std::vector<Request> drain(kvsim::workload::Source& source) {
  std::vector<Request> out;
  while (auto r = source.next()) out.push_back(std::move(*r));
  return out;
}

std::vector<Request> generate(const ChatParams& p, std::uint64_t seed = 1, std::uint32_t block_size = 16,
                              const std::string& base_dir = "") {
  ChatGenerator gen(p, Rng::stream(seed, "workload"), block_size, base_dir);
  return drain(gen);
}

std::size_t shared_prefix(const Request& a, const Request& b) {
  std::size_t n = 0;
  while (n < a.blocks.size() && n < b.blocks.size() && a.blocks[n] == b.blocks[n]) ++n;
  return n;
}

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// A fresh directory for fixture files, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("kvsim_test_" + name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& file, const std::string& text) const {
    std::ofstream(path / file, std::ios::binary) << text;
    return (path / file).string();
  }
};

// Every length fixed (sigma 0), so token counts are known exactly.
ChatParams fixed_lengths() {
  ChatParams p;
  p.system_prompts = 1;
  p.system_prompt_tokens = 810;
  p.system_prompt_sigma = 0;
  p.message_tokens = 150;
  p.message_sigma = 0;
  p.output_tokens = 200;
  p.output_sigma = 0;
  return p;
}

}  // namespace

TEST_CASE("chat: requests arrive at about `rate` per second in steady state") {
  ChatParams p;  // defaults: rate 8, turns_mean 3, think_time 30 s
  p.num_requests = 0;
  p.duration = 3600;
  ChatGenerator gen(p, Rng::stream(3, "workload"), 16);
  std::size_t in_window = 0, total = 0;
  double last = 0.0;
  while (auto r = gen.next()) {
    REQUIRE(r->arrival <= 3600.0);
    last = r->arrival;
    ++total;
    // Skip the ramp-up: follow-ups need a few think times to reach their steady rate.
    if (r->arrival >= 600.0) ++in_window;
  }
  CHECK(last > 3590.0);
  const double measured = static_cast<double>(in_window) / 3000.0;
  // Sessions are Poisson(8/3 per s) with Geometric(3) turns: count variance ~ rate*W*E[T^2]/E[T]
  // = 8*3000*5, i.e. a standard error of 1.4%; allow 5%.
  CHECK(measured == doctest::Approx(8.0).epsilon(0.05));
  CHECK(total > in_window);
  CHECK(gen.expected_count() == 0u);
}

TEST_CASE("chat: arrivals non-decreasing, ids sequential, session and parent links consistent") {
  ChatParams p;
  p.num_requests = 4000;
  const auto reqs = generate(p);
  REQUIRE(reqs.size() == 4000u);
  std::map<std::uint64_t, std::uint32_t> last_turn;  // session -> last turn seen
  std::uint64_t next_session = 0;
  bool multi_turn = false;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const Request& r = reqs[i];
    CHECK(r.id == i);
    CHECK(r.category == 0);
    if (i > 0) CHECK(r.arrival >= reqs[i - 1].arrival);
    if (r.turn == 1) {
      CHECK(r.parent == -1);
      CHECK(r.session == next_session);  // sessions numbered in start order
      ++next_session;
    } else {
      multi_turn = true;
      REQUIRE(r.parent >= 0);
      REQUIRE(static_cast<std::uint64_t>(r.parent) < r.id);
      const Request& parent = reqs[static_cast<std::size_t>(r.parent)];
      CHECK(parent.session == r.session);
      CHECK(parent.turn + 1 == r.turn);
      CHECK(last_turn[r.session] + 1 == r.turn);
      // Open loop: the next turn comes a think time after the previous arrival.
      CHECK(r.arrival >= parent.arrival);
    }
    last_turn[r.session] = r.turn;
  }
  CHECK(multi_turn);
  ChatGenerator gen(p, Rng(1), 16);
  CHECK(gen.categories() == std::vector<std::string>{"chat"});
  CHECK(gen.expected_count() == 4000u);
}

TEST_CASE("chat: turn k+1 input = turn k input + turn k output + new message") {
  SUBCASE("exact with fixed lengths") {
    ChatParams p = fixed_lengths();
    p.num_requests = 2000;
    const auto reqs = generate(p);
    int follow_ups = 0;
    for (const auto& r : reqs) {
      CHECK(r.output_tokens == 200u);
      // Turn k: 810 + 150 + (k-1) * (200 + 150).
      CHECK(r.input_tokens == 960u + (r.turn - 1) * 350u);
      if (r.parent >= 0) {
        const Request& parent = reqs[static_cast<std::size_t>(r.parent)];
        CHECK(r.input_tokens == parent.input_tokens + parent.output_tokens + 150u);
        ++follow_ups;
      }
    }
    CHECK(follow_ups > 500);
  }
  SUBCASE("random lengths: the new message has 1..max_input tokens") {
    ChatParams p;
    p.num_requests = 2000;
    const auto reqs = generate(p, 5);
    for (const auto& r : reqs) {
      CHECK(r.input_tokens >= 1u);
      CHECK(r.input_tokens <= p.max_input);
      CHECK(r.output_tokens >= 1u);
      CHECK(r.output_tokens <= p.max_output);
      CHECK(r.input_tokens + r.output_tokens <= p.max_context);
      if (r.parent >= 0) {
        const Request& parent = reqs[static_cast<std::size_t>(r.parent)];
        CHECK(r.input_tokens >= parent.input_tokens + parent.output_tokens + 1u);
      }
    }
  }
}

TEST_CASE("chat: one block id per block, and turn k+1 shares exactly turn k's full blocks") {
  ChatParams p;
  p.num_requests = 3000;
  const std::uint32_t bs = 16;
  const auto reqs = generate(p, 9, bs);
  int checked = 0, partial_last = 0;
  for (const auto& r : reqs) {
    CHECK(r.blocks.size() == ceil_div(r.input_tokens, bs));
    if (r.parent < 0) continue;
    const Request& prev = reqs[static_cast<std::size_t>(r.parent)];
    const std::size_t full = prev.input_tokens / bs;
    // Turn k+1's input begins with turn k's whole input, so its full blocks are shared...
    CHECK(shared_prefix(prev, r) == full);
    // ...and a partial last block of turn k is not the block that turn k+1 fills out.
    if (prev.input_tokens % bs != 0) {
      REQUIRE(prev.blocks.size() == full + 1);
      CHECK(prev.blocks[full] != r.blocks[full]);
      ++partial_last;
    }
    ++checked;
  }
  CHECK(checked > 1000);
  CHECK(partial_last > 500);
}

TEST_CASE("chat: sessions with the same system prompt share exactly its full blocks") {
  const std::uint32_t bs = 16;
  for (const double prompt : {810.0, 800.0}) {
    CAPTURE(prompt);
    ChatParams p = fixed_lengths();
    p.system_prompt_tokens = prompt;
    p.message_sigma = 1.0;  // message lengths vary; sharing must not depend on them
    p.num_requests = 400;
    ChatGenerator gen(p, Rng(21), bs);
    REQUIRE(gen.system_prompt_lengths() == std::vector<std::uint32_t>{static_cast<std::uint32_t>(prompt)});
    const auto reqs = drain(gen);
    std::vector<const Request*> firsts;
    for (const auto& r : reqs)
      if (r.turn == 1) firsts.push_back(&r);
    REQUIRE(firsts.size() > 50u);
    // 810 / 16 = 50 full blocks (block 50 straddles prompt and message); 800 / 16 = 50 too
    // (block 50 lies in the message).
    for (std::size_t i = 1; i < firsts.size(); ++i) CHECK(shared_prefix(*firsts[0], *firsts[i]) == 50u);
    // A later turn of one session against the first turn of another: still only the prompt.
    for (const auto& r : reqs)
      if (r.turn > 1 && r.session != firsts[0]->session) CHECK(shared_prefix(*firsts[0], r) == 50u);
  }
}

TEST_CASE("chat: different system prompts share nothing, equal ones share their full blocks") {
  ChatParams p = fixed_lengths();
  p.system_prompts = 3;
  p.system_prompt_zipf = 0.0;
  p.num_requests = 300;
  ChatGenerator gen(p, Rng(22), 16);
  const auto reqs = drain(gen);
  std::vector<const Request*> firsts;
  for (const auto& r : reqs)
    if (r.turn == 1) firsts.push_back(&r);
  int same = 0, different = 0;
  for (std::size_t i = 0; i < firsts.size(); ++i)
    for (std::size_t j = i + 1; j < firsts.size(); ++j) {
      const auto n = shared_prefix(*firsts[i], *firsts[j]);
      CHECK((n == 0u || n == 50u));
      (n == 50u ? same : different) += 1;
    }
  // Three equally popular prompts: about 1/3 of the pairs share one.
  CHECK(same > 0);
  CHECK(different > same);
}

TEST_CASE("chat: system prompt popularity follows the Zipf law") {
  // 2 prompts (same fixed length, distinct content), exponent 1: P(rank 0) = 1 / (1 + 1/2) = 2/3.
  ChatParams p = fixed_lengths();
  p.system_prompts = 2;
  p.system_prompt_sigma = 0;
  p.system_prompt_zipf = 1.0;
  p.turns_mean = 1.0;  // one request per session
  p.num_requests = 6000;
  ChatGenerator gen(p, Rng(23), 16);
  const auto reqs = drain(gen);
  // Both prompts have 810 tokens: group sessions by their first block.
  std::map<kvsim::workload::BlockId, int> by_prompt;
  for (const auto& r : reqs) ++by_prompt[r.blocks[0]];
  REQUIRE(by_prompt.size() == 2u);
  const int top = std::max(by_prompt.begin()->second, std::next(by_prompt.begin())->second);
  const double share = static_cast<double>(top) / 6000.0;
  CHECK(std::fabs(share - 2.0 / 3.0) <= 4.0 * std::sqrt((2.0 / 9.0) / 6000.0));
}

TEST_CASE("chat: segment_blocks names blocks by the content pieces they cover") {
  const std::uint64_t A = 1, B = 2, C = 3;
  const std::vector<ContentSegment> ab{{A, 10}, {B, 10}};
  const std::vector<ContentSegment> ac{{A, 10}, {C, 10}};
  const auto b_ab = kvsim::workload::segment_blocks(ab, 8);
  const auto b_ac = kvsim::workload::segment_blocks(ac, 8);
  REQUIRE(b_ab.size() == 3u);  // ceil(20 / 8)
  CHECK(b_ab[0] == b_ac[0]);   // tokens 0..7 are A in both
  CHECK(b_ab[1] != b_ac[1]);   // tokens 8..15 straddle A and B (or C)
  CHECK(b_ab[2] != b_ac[2]);
  // A partial block is not the full block with the same start.
  const std::vector<ContentSegment> a12{{A, 12}};
  const std::vector<ContentSegment> a16{{A, 16}};
  const auto b12 = kvsim::workload::segment_blocks(a12, 8);
  const auto b16 = kvsim::workload::segment_blocks(a16, 8);
  CHECK(b12[0] == b16[0]);
  CHECK(b12[1] != b16[1]);
  // Empty segments contribute nothing.
  const std::vector<ContentSegment> with_empty{{A, 0}, {B, 8}};
  const std::vector<ContentSegment> only_b{{B, 8}};
  CHECK(kvsim::workload::segment_blocks(with_empty, 8) == kvsim::workload::segment_blocks(only_b, 8));
  // Identities are chained: equal content after a different prefix is a different block.
  const std::vector<ContentSegment> a8b8{{A, 8}, {B, 8}};
  const std::vector<ContentSegment> c8b8{{C, 8}, {B, 8}};
  CHECK(kvsim::workload::segment_blocks(a8b8, 8)[1] != kvsim::workload::segment_blocks(c8b8, 8)[1]);
}

TEST_CASE("chat: same seed gives an identical stream, another seed a different one") {
  ChatParams p;
  p.num_requests = 1500;
  const auto a = generate(p, 42);
  const auto b = generate(p, 42);
  const auto c = generate(p, 43);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].arrival == b[i].arrival);
    CHECK(a[i].session == b[i].session);
    CHECK(a[i].parent == b[i].parent);
    CHECK(a[i].input_tokens == b[i].input_tokens);
    CHECK(a[i].output_tokens == b[i].output_tokens);
    CHECK(a[i].blocks == b[i].blocks);
  }
  CHECK(a[0].arrival != c[0].arrival);
  CHECK(a[0].blocks != c[0].blocks);
  int same_inputs = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same_inputs += a[i].input_tokens == c[i].input_tokens;
  CHECK(same_inputs < 100);
}

TEST_CASE("chat: limits on count and duration") {
  ChatParams p;
  p.num_requests = 777;
  CHECK(generate(p).size() == 777u);

  p.num_requests = 0;
  p.duration = 100;
  const auto by_time = generate(p);
  REQUIRE_FALSE(by_time.empty());
  CHECK(by_time.back().arrival <= 100.0);

  // Both set: whichever comes first.
  p.num_requests = 50;
  CHECK(generate(p).size() == 50u);

  // The stream ends for good.
  ChatGenerator gen(p, Rng(2), 16);
  (void)drain(gen);
  CHECK_FALSE(gen.next().has_value());
}

TEST_CASE("chat: sessions end when the next turn would exceed max_context or max_input") {
  // Prompt 500, message 100, output 100: turn k has input 400 + 200k and context 500 + 200k.
  ChatParams p = fixed_lengths();
  p.system_prompt_tokens = 500;
  p.message_tokens = 100;
  p.output_tokens = 100;
  p.turns_mean = 10;
  p.num_requests = 2000;
  SUBCASE("max_context 1200: turn 3 has context 1100, turn 4 would have 1300") { p.max_context = 1200; }
  SUBCASE("max_input 1000: turn 3 has input 1000, turn 4 would have 1200") { p.max_input = 1000; }
  const auto reqs = generate(p);
  std::uint32_t max_turn = 0;
  for (const auto& r : reqs) max_turn = std::max(max_turn, r.turn);
  CHECK(max_turn == 3u);
}

TEST_CASE("chat: a first turn is truncated to fit max_input and max_context") {
  ChatParams p = fixed_lengths();
  p.system_prompt_tokens = 500;
  p.message_tokens = 2000;
  p.output_tokens = 300;
  p.turns_mean = 1;
  p.num_requests = 20;
  p.max_input = 1000;
  p.max_context = 1200;
  for (const auto& r : generate(p)) {
    CHECK(r.input_tokens == 1000u);  // the message is cut to 500 tokens
    CHECK(r.output_tokens == 200u);  // the output is cut to the context left
  }
}

TEST_CASE("chat: with think_time 0 a session's turns arrive together, before the next session") {
  // Every turn of a session arrives at the session's start; the next session starts an
  // exponential gap later, so each session's turns are contiguous and in turn order.
  ChatParams p;
  p.think_time = 0;
  p.num_requests = 1000;
  const auto reqs = generate(p);
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    if (reqs[i].session == reqs[i - 1].session) {
      CHECK(reqs[i].turn == reqs[i - 1].turn + 1);
      CHECK(reqs[i].arrival == reqs[i - 1].arrival);
    } else {
      CHECK(reqs[i].session == reqs[i - 1].session + 1);
      CHECK(reqs[i].turn == 1u);
    }
  }
}

TEST_CASE("chat: invalid parameters are rejected") {
  ChatParams p;
  p.num_requests = 0;
  p.duration = 0;
  CHECK_THROWS_AS(ChatGenerator(p, Rng(1), 16), kvsim::InputError);
  try {
    ChatGenerator gen(p, Rng(1), 16);
  } catch (const kvsim::InputError& e) {
    CHECK(e.field() == "num_requests");
  }
  p.num_requests = 10;
  p.turns_mean = 0.5;
  CHECK_THROWS_AS(ChatGenerator(p, Rng(1), 16), kvsim::InputError);
  p.turns_mean = 3;
  p.lengths = LengthModel::empirical;  // without lengths_file
  CHECK_THROWS_AS(ChatGenerator(p, Rng(1), 16), kvsim::InputError);
  p.lengths = LengthModel::lognormal;
  CHECK_THROWS_AS(ChatGenerator(p, Rng(1), 0), std::invalid_argument);
}

TEST_CASE("chat: empirical lengths are drawn uniformly from the CSV as single-turn requests") {
  const TempDir dir("chat_empirical");
  dir.write("lengths.csv", "input_tokens,output_tokens\n100,10\n200,20\n\n300,30\n");
  ChatParams p;
  p.lengths = LengthModel::empirical;
  p.lengths_file = "lengths.csv";  // resolved against base_dir
  p.num_requests = 3000;
  const auto reqs = generate(p, 4, 16, dir.path.string());
  REQUIRE(reqs.size() == 3000u);
  std::map<std::uint32_t, int> counts;
  std::set<kvsim::workload::BlockId> first_blocks;
  for (const auto& r : reqs) {
    CHECK(r.output_tokens * 10 == r.input_tokens);  // pairs stay together
    ++counts[r.input_tokens];
    CHECK(r.turn == 1u);
    CHECK(r.parent == -1);
    CHECK(r.session == r.id);
    CHECK(r.blocks.size() == ceil_div(r.input_tokens, 16));
    first_blocks.insert(r.blocks[0]);
  }
  REQUIRE(counts.size() == 3u);
  for (const auto& [input, n] : counts)
    CHECK(std::fabs(n / 3000.0 - 1.0 / 3.0) <= 4.0 * std::sqrt((2.0 / 9.0) / 3000.0));
  // Without system prompts every request's content is its own.
  CHECK(first_blocks.size() == reqs.size());
  // Single-turn sessions start at `rate`: 3000 requests take about 3000 / 8 s.
  CHECK(reqs.back().arrival == doctest::Approx(375.0).epsilon(0.1));
}

TEST_CASE("chat: empirical lengths with shared system prompts keep the table's input lengths") {
  const TempDir dir("chat_empirical_prompts");
  const std::string file = dir.write("pairs.csv", "input_tokens,output_tokens\n100,10\n40,5\n");
  ChatParams p;
  p.lengths = LengthModel::empirical;
  p.lengths_file = file;  // absolute
  p.empirical_system_prompts = true;
  p.system_prompts = 1;
  p.system_prompt_tokens = 64;
  p.system_prompt_sigma = 0;
  p.num_requests = 200;
  const auto reqs = generate(p, 6, 16);
  std::vector<const Request*> long_ones, short_ones;
  for (const auto& r : reqs) {
    CHECK((r.input_tokens == 100u || r.input_tokens == 40u));
    (r.input_tokens == 100u ? long_ones : short_ones).push_back(&r);
  }
  REQUIRE(long_ones.size() > 10u);
  REQUIRE(short_ones.size() > 10u);
  // 64-token prompt = 4 full blocks; a 40-token input keeps 39 prompt tokens = 2 full blocks.
  for (std::size_t i = 1; i < long_ones.size(); ++i) CHECK(shared_prefix(*long_ones[0], *long_ones[i]) == 4u);
  for (std::size_t i = 1; i < short_ones.size(); ++i) CHECK(shared_prefix(*short_ones[0], *short_ones[i]) == 2u);
  CHECK(shared_prefix(*long_ones[0], *short_ones[0]) == 2u);
}

TEST_CASE("chat: read_length_table accepts both headers and reports malformed lines") {
  const TempDir dir("chat_table");
  SUBCASE("Azure format with CRLF") {
    const auto file = dir.write("azure.csv",
                                "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                "2023-11-16 18:15:46.6805900,374,44\r\n"
                                "2023-11-16 18:15:50.9951690,396,109");
    const auto rows = kvsim::workload::read_length_table(file);
    CHECK(rows == std::vector<LengthPair>{{374, 44}, {396, 109}});
  }
  SUBCASE("columns found by name") {
    const auto file = dir.write("reordered.csv", "output_tokens,note,input_tokens\n7,x,70\n");
    CHECK(kvsim::workload::read_length_table(file) == std::vector<LengthPair>{{70, 7}});
  }
  SUBCASE("not a number") {
    const auto file = dir.write("bad.csv", "input_tokens,output_tokens\n100,10\n200,abc\n");
    try {
      (void)kvsim::workload::read_length_table(file);
      FAIL("expected an InputError");
    } catch (const kvsim::InputError& e) {
      CHECK(e.file() == file);
      CHECK(e.line() == 3);
      CHECK(e.field() == "output_tokens");
      CHECK(std::string(e.what()).find("non-negative integer") != std::string::npos);
    }
  }
  SUBCASE("negative or missing values") {
    const auto file = dir.write("neg.csv", "input_tokens,output_tokens\n-5,10\n");
    CHECK_THROWS_AS(kvsim::workload::read_length_table(file), kvsim::InputError);
    const auto short_line = dir.write("short.csv", "input_tokens,output_tokens\n100,10\n\n200\n");
    try {
      (void)kvsim::workload::read_length_table(short_line);
      FAIL("expected an InputError");
    } catch (const kvsim::InputError& e) {
      CHECK(e.line() == 4);
      CHECK(e.field() == "output_tokens");
    }
  }
  SUBCASE("unknown header") {
    const auto file = dir.write("header.csv", "prompt,completion\n1,2\n");
    try {
      (void)kvsim::workload::read_length_table(file);
      FAIL("expected an InputError");
    } catch (const kvsim::InputError& e) {
      CHECK(e.line() == 1);
      CHECK(e.field() == "header");
    }
  }
  SUBCASE("no rows, no file") {
    CHECK_THROWS_AS(kvsim::workload::read_length_table(dir.write("empty.csv", "input_tokens,output_tokens\n")),
                    kvsim::InputError);
    CHECK_THROWS_AS(kvsim::workload::read_length_table((dir.path / "missing.csv").string()), kvsim::InputError);
  }
}

TEST_CASE("chat: parameters parsed from TOML through config::Section, and make_source") {
  using kvsim::config::ReadContext;
  using kvsim::config::Section;
  const std::string text = R"(
[workload]
generator = "chat"
rate = 12
num_requests = "10k"
duration = "1h"
think_time = "2min"
turns_mean = 4.5
system_prompts = 5
system_prompt_zipf = 0.8
output_tokens = 300
max_context = 8192
)";
  const toml::table doc = kvsim::config::parse_toml(text, "test.toml");
  auto context = std::make_shared<ReadContext>();
  Section root(&doc, "", context);
  Section workload = root.table("workload");
  (void)workload.raw("generator");
  const ChatParams p = kvsim::workload::parse_chat_params(workload);
  workload.finish();
  CHECK(p.rate == 12.0);
  CHECK(p.num_requests == 10000u);
  CHECK(p.duration == 3600.0);
  CHECK(p.think_time == 120.0);
  CHECK(p.turns_mean == 4.5);
  CHECK(p.system_prompts == 5u);
  CHECK(p.system_prompt_zipf == 0.8);
  CHECK(p.output_tokens == 300.0);
  CHECK(p.max_context == 8192u);
  // Untouched keys keep their defaults.
  const ChatParams d;
  CHECK(p.message_tokens == d.message_tokens);
  CHECK(p.max_input == d.max_input);
  CHECK(p.lengths == LengthModel::lognormal);
  // Every parameter is documented, with units on the durations.
  bool think_documented = false;
  for (const auto& doc_entry : context->docs) {
    CHECK_FALSE(doc_entry.help.empty());
    if (doc_entry.key == "workload.think_time") think_documented = doc_entry.unit == "s";
  }
  CHECK(think_documented);

  // make_source reads `generator` and builds the same stream as a ChatGenerator on
  // Rng::stream(seed, "workload").
  auto context2 = std::make_shared<ReadContext>();
  Section root2(&doc, "", context2);
  Section workload2 = root2.table("workload");
  auto source = kvsim::workload::make_source(workload2, 77, 16, "");
  workload2.finish();
  REQUIRE(source != nullptr);
  CHECK(source->categories() == std::vector<std::string>{"chat"});
  ChatGenerator direct(p, Rng::stream(77, "workload"), 16);
  for (int i = 0; i < 200; ++i) {
    const auto a = source->next();
    const auto b = direct.next();
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->arrival == b->arrival);
    CHECK(a->blocks == b->blocks);
  }
  // Other generators register beside it: check membership, not the exact list.
  const auto names = kvsim::workload::workload_generator_names();
  CHECK(std::find(names.begin(), names.end(), "chat") != names.end());
  CHECK(std::find(names.begin(), names.end(), "mix") != names.end());
}

TEST_CASE("chat: config errors name the key") {
  using kvsim::config::ReadContext;
  using kvsim::config::Section;
  const auto parse = [](const std::string& text) {
    const toml::table doc = kvsim::config::parse_toml(text, "bad.toml");
    Section root(&doc, "", std::make_shared<ReadContext>());
    Section workload = root.table("workload");
    auto source = kvsim::workload::make_source(workload, 1, 16, "");
    workload.finish();
  };
  SUBCASE("unknown key after finish(), with a suggestion") {
    try {
      parse("[workload]\nrate = 4\nthink_tme = 3\n");
      FAIL("expected an InputError");
    } catch (const kvsim::InputError& e) {
      CHECK(e.field() == "workload.think_tme");
      CHECK(e.line() == 3);
      CHECK(std::string(e.what()).find("think_time") != std::string::npos);
    }
  }
  SUBCASE("no stopping rule") {
    try {
      parse("[workload]\nnum_requests = 0\n");
      FAIL("expected an InputError");
    } catch (const kvsim::InputError& e) {
      CHECK(e.field() == "workload.num_requests");
      CHECK(e.line() == 2);
    }
  }
  SUBCASE("unknown generator") {
    CHECK_THROWS_AS(parse("[workload]\ngenerator = \"chatt\"\n"), kvsim::InputError);
  }
  SUBCASE("out-of-range value") {
    CHECK_THROWS_AS(parse("[workload]\nturns_mean = 0.5\n"), kvsim::InputError);
  }
  SUBCASE("bad lengths_file is reported") {
    CHECK_THROWS_AS(parse("[workload]\nlengths = \"empirical\"\nlengths_file = \"/nonexistent/x.csv\"\n"),
                    kvsim::InputError);
  }
}
