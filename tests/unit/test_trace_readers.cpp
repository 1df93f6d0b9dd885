// Trace readers and writers (workloads/readers/): each format read from a fixture with known
// values (tests/golden/, see its README), every kind of malformed line reported at its line
// and field (or counted with skip_bad_lines), block identities chained and mapped between
// block sizes, sessions from parent chains, window/limit/speed, detection, writer round
// trips and streaming.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/util/error.hpp"
#include "tests/sim/cli_helpers.hpp"
#include "workloads/readers/json_line.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/vector_source.hpp"

using kvsim::InputError;
using kvsim::test::ScratchDir;
using namespace kvsim::workload;

namespace {

std::string golden(const std::string& name) { return std::string(KVSIM_SOURCE_DIR) + "/tests/golden/" + name; }

std::vector<Request> read_all(Source& source) {
  std::vector<Request> out;
  while (auto r = source.next()) out.push_back(std::move(*r));
  return out;
}

std::vector<Request> read_all(const std::string& path, TraceOptions options = {}) {
  auto source = open_trace(path, options);
  return read_all(*source);
}

std::uint64_t reported(const Source& source, const std::string& name) {
  for (const auto& [key, count] : source.report())
    if (key == name) return count;
  FAIL("no report entry " << name);
  return 0;
}

// Opens and reads path; the read must fail with an InputError at line and field whose
// message contains part.
void expect_error(const std::string& path, TraceOptions options, long line, const std::string& field,
                  const std::string& part) {
  try {
    auto source = open_trace(path, options);
    read_all(*source);
    FAIL("no error for " << part);
  } catch (const InputError& e) {
    CHECK(e.file() == path);
    CHECK(e.line() == line);
    CHECK(e.field() == field);
    CHECK_MESSAGE(std::string(e.what()).find(part) != std::string::npos, e.what());
  }
}

BlockId chain(std::initializer_list<std::uint64_t> hashes) {
  BlockId p = 0;
  for (auto h : hashes) p = chain_block(p, h);
  return p;
}

const std::string kBailianLine =
    R"({"chat_id": 1, "parent_chat_id": -1, "timestamp": 0.5, "input_length": 20, "output_length": 4, "type": "text", "turn": 1, "hash_ids": [7, 8]})";

}  // namespace

TEST_CASE("trace json_line: values, exact 64-bit integers, escapes and errors") {
  JsonLine j;
  const std::string file = "f.jsonl";
  const std::string text =
      R"( {"a": 18446744073709551615, "b": -3, "c": 2.5e1, "s": "x\"\u00e9\ud83d\ude00", "t": true, "n": null,)"
      R"( "arr": [0, 18446744073709551615], "o": {"k": [1, {"z": 2}]}, "strs": ["p", "q"], "mixed": [1, "x"]} )";
  j.parse(text, file, 7);
  CHECK(j.unsigned_integer("a") == std::numeric_limits<std::uint64_t>::max());
  CHECK(j.integer("b") == -3);
  CHECK(j.number("c") == 25.0);
  CHECK(j.string("s") == "x\"\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(j.boolean("t"));
  CHECK(j.has("n"));
  CHECK_FALSE(j.present("n"));
  const auto arr = j.unsigned_array("arr");
  REQUIRE(arr.size() == 2);
  CHECK(arr[1] == std::numeric_limits<std::uint64_t>::max());
  CHECK(j.string_array("strs") == std::vector<std::string>{"p", "q"});
  CHECK(j.has("o"));

  auto error = [&](auto&& call) -> InputError {
    try {
      call();
    } catch (const InputError& e) {
      return e;
    }
    FAIL("no error");
    return InputError("");
  };
  CHECK(error([&] { j.unsigned_integer("b"); }).field() == "b");
  CHECK(std::string(error([&] { j.unsigned_integer("b"); }).what()) ==
        "f.jsonl:7: b: expected a non-negative integer, got -3");
  CHECK(std::string(error([&] { j.number("s"); }).what()) == "f.jsonl:7: s: expected a number, got a string");
  CHECK(std::string(error([&] { j.number("zz"); }).what()) == "f.jsonl:7: zz: missing field (expected a number)");
  CHECK(error([&] { j.unsigned_array("mixed"); }).field() == "mixed");
  CHECK(error([&] { j.unsigned_integer("c"); }).field() == "c");

  const InputError syntax = error([&] { j.parse(R"({"a": 1, "b": [1, 2})", file, 3); });
  CHECK(syntax.line() == 3);
  CHECK(syntax.field() == "b");
  CHECK(std::string(syntax.what()).find("expected ',' or ']'") != std::string::npos);
  CHECK(error([&] { j.parse(R"({"a": 1, "a": 2})", file, 1); }).field() == "a");
  CHECK(error([&] { j.parse(R"({"a": 01})", file, 1); }).field() == "a");
  CHECK(error([&] { j.parse(R"({"a": 1} x)", file, 1); }).field() == "json");
  CHECK(error([&] { j.parse("[1]", file, 1); }).field() == "json");
}

TEST_CASE("trace bailian: hand-made file read with ids, sessions, categories, chained blocks") {
  const std::string path = golden("bailian_sample.jsonl");
  auto source = open_trace(path, {});
  const auto r = read_all(*source);
  REQUIRE(r.size() == 5);
  CHECK(source->categories() == std::vector<std::string>{"text", "api", "search"});
  const std::vector<std::uint64_t> ids{10, 11, 12, 13, 14};
  const std::vector<std::uint64_t> sessions{10, 11, 10, 10, 14};
  const std::vector<std::int64_t> parents{-1, -1, 10, 12, -1};  // 99 never seen: own session
  const std::vector<std::uint32_t> turns{1, 1, 2, 3, 2};
  const std::vector<double> arrivals{0.0, 0.5, 1.75, 2.5, 2.5};
  const std::vector<std::uint16_t> categories{0, 1, 0, 2, 0};
  for (std::size_t i = 0; i < r.size(); ++i) {
    CAPTURE(i);
    CHECK(r[i].id == ids[i]);
    CHECK(r[i].session == sessions[i]);
    CHECK(r[i].parent == parents[i]);
    CHECK(r[i].turn == turns[i]);
    CHECK(r[i].arrival == arrivals[i]);
    CHECK(r[i].category == categories[i]);
    CHECK(r[i].think_time == -1.0);
  }
  CHECK(r[0].input_tokens == 40);
  CHECK(r[0].output_tokens == 5);
  CHECK(r[0].blocks == std::vector<BlockId>{chain({1}), chain({1, 2}), chain({1, 2, 3})});
  CHECK(r[2].blocks == std::vector<BlockId>{chain({1}), chain({1, 2}), chain({1, 2, 5}), chain({1, 2, 5, 6})});
  CHECK(r[3].blocks == std::vector<BlockId>{chain({1})});
  CHECK(r[4].blocks.empty());
  CHECK(source->report().empty());
}

TEST_CASE("trace bailian: equal first blocks and different second blocks share exactly one prefix block") {
  ScratchDir dir;
  const std::string path = dir.write(
      "t.jsonl",
      R"({"chat_id": 1, "parent_chat_id": -1, "timestamp": 0, "input_length": 48, "output_length": 1, "type": "text", "turn": 1, "hash_ids": [5, 6, 7]})"
      "\n"
      R"({"chat_id": 2, "parent_chat_id": -1, "timestamp": 1, "input_length": 48, "output_length": 1, "type": "text", "turn": 1, "hash_ids": [5, 9, 7]})"
      "\n");
  const auto r = read_all(path);
  REQUIRE(r.size() == 2);
  int shared = 0;
  for (const auto a : r[0].blocks)
    for (const auto b : r[1].blocks) shared += a == b;
  CHECK(shared == 1);
  CHECK(r[0].blocks[0] == r[1].blocks[0]);
  // The third per-block hash is equal, but the prefixes differ: chaining keeps them apart.
  CHECK(r[0].blocks[2] != r[1].blocks[2]);
}

TEST_CASE("trace mooncake: real sample with ms timestamps and prefix hashes over 512 tokens") {
  const std::string path = golden("mooncake_sample.jsonl");
  TraceOptions o;
  o.block_size = 512;
  auto source = open_trace(path, o);
  const auto r = read_all(*source);
  REQUIRE(r.size() == 40);
  CHECK(source->categories() == std::vector<std::string>{"mooncake"});
  CHECK(r[0].arrival == 0.0);
  CHECK(r[2].arrival == 0.04);
  CHECK(r[3].arrival == 0.277);
  CHECK(r[39].arrival == 12.075);
  CHECK(r[0].input_tokens == 40160);
  CHECK(r[0].output_tokens == 6);
  REQUIRE(r[0].blocks.size() == 79);
  for (std::size_t k = 0; k < 79; ++k) CHECK(r[0].blocks[k] == k);  // hash_ids 0..78 as they are
  CHECK(r[1].blocks.front() == 79);
  for (std::size_t i = 0; i < r.size(); ++i) {
    CHECK(r[i].id == i);
    CHECK(r[i].session == i);
    CHECK(r[i].parent == -1);
    CHECK(r[i].turn == 1);
  }
}

TEST_CASE("trace azure: real sample, datetimes as seconds after the first row, no hashes") {
  const std::string path = golden("azure_conv_sample.csv");
  auto source = open_trace(path, {});
  const auto r = read_all(*source);
  REQUIRE(r.size() == 30);
  CHECK(source->categories() == std::vector<std::string>{"azure"});
  CHECK(r[0].arrival == 0.0);
  CHECK(r[1].arrival == doctest::Approx(50.9951690 - 46.6805900).epsilon(1e-12));
  CHECK(r[29].arrival == doctest::Approx(19.913927).epsilon(1e-12));
  CHECK(r[0].input_tokens == 374);
  CHECK(r[0].output_tokens == 44);
  CHECK(r[29].input_tokens == 91);
  CHECK(r[29].output_tokens == 16);
  for (std::size_t i = 0; i < r.size(); ++i) {
    CHECK(r[i].blocks.empty());
    CHECK(r[i].session == i);
  }

  // Across midnight, a new year and a leap February: 60 days and 0.1 s after the first row.
  ScratchDir dir;
  const std::string crossing = dir.write("c.csv",
                                         "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                         "2023-12-31 23:59:59.9000000,10,1\n"
                                         "2024-01-01 00:00:00.1,20,2\n"
                                         "2024-03-01 00:00:00,30,3\n");
  const auto c = read_all(crossing);
  REQUIRE(c.size() == 3);
  CHECK(c[1].arrival == doctest::Approx(0.2).epsilon(1e-12));
  CHECK(c[2].arrival == doctest::Approx(60 * 86400 + 0.1).epsilon(1e-15));

  const std::string bad = dir.write("b.csv",
                                    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                    "2023-11-16 18:15:46.68,10,1\n"
                                    "2023-02-29 00:00:00,10,1\n");
  expect_error(bad, {}, 3, "TIMESTAMP", "expected a date and time");
  const std::string header = dir.write("h.csv", "TIMESTAMP,ContextTokens,Output\n2023-11-16 18:15:46,1,1\n");
  expect_error(header, {.format = "azure"}, 1, "GeneratedTokens", "missing column");
}

TEST_CASE("trace burstgpt: failures counted not replayed, models as categories, session chains") {
  auto source = open_trace(golden("burstgpt_sample.csv"), {});
  const auto r = read_all(*source);
  REQUIRE(r.size() == 3);
  CHECK(reported(*source, "failed_requests") == 1);
  CHECK(source->categories() == std::vector<std::string>{"ChatGPT", "GPT-4"});
  CHECK(r[0].arrival == 0.0);
  CHECK(r[1].arrival == 2.5);
  CHECK(r[2].arrival == 4.0);
  CHECK(r[1].id == 1);
  CHECK(r[1].session == 0);
  CHECK(r[1].parent == 0);
  CHECK(r[1].turn == 2);
  CHECK(r[2].id == 2);
  CHECK(r[2].session == 2);
  CHECK(r[2].parent == -1);
  CHECK(r[2].category == 1);
  CHECK(r[2].input_tokens == 200);
  CHECK(r[2].output_tokens == 5);

  ScratchDir dir;
  const std::string plain = dir.write("p.csv",
                                      "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                                      "1,ChatGPT,10,0,10,Conversation log\n"
                                      "2,ChatGPT,10,3,13,Conversation log\n"
                                      "3,ChatGPT,10,3,13,Conversation log\n");
  auto p = open_trace(plain, {});
  const auto q = read_all(*p);
  REQUIRE(q.size() == 2);
  CHECK(q[1].session == 1);
  CHECK(q[1].parent == -1);
  CHECK(q[0].arrival == 0.0);  // rebased to the first replayed request, not the failed one
  CHECK(reported(*p, "failed_requests") == 1);
}

TEST_CASE("trace kvsim: header block size and categories, optional keys, exact 64-bit blocks") {
  TraceOptions o;
  o.block_size = 4;
  auto source = open_trace(golden("kvsim_sample.jsonl"), o);
  const auto r = read_all(*source);
  REQUIRE(r.size() == 3);
  CHECK(source->categories() == std::vector<std::string>{"chat", "batch"});
  CHECK(r[0].blocks == std::vector<BlockId>{std::numeric_limits<std::uint64_t>::max(), 7});
  CHECK(r[1].blocks == std::vector<BlockId>{std::numeric_limits<std::uint64_t>::max(), 8, 9});
  CHECK(r[1].parent == 0);
  CHECK(r[1].session == 0);
  CHECK(r[1].turn == 2);
  CHECK(r[1].think_time == 4.5);
  CHECK(r[1].arrival == 0.125);
  CHECK(r[2].id == 5);
  CHECK(r[2].session == 5);
  CHECK(r[2].category == 1);
  CHECK(r[2].priority == 2);
  CHECK(r[2].think_time == -1.0);
  CHECK(r[2].blocks.empty());
}

TEST_CASE("trace errors: each malformed line named by line and field") {
  ScratchDir dir;
  const std::string ok = kBailianLine + "\n";
  auto bailian = [&](const std::string& name, const std::string& second) { return dir.write(name, ok + second + "\n"); };
  expect_error(bailian("json.jsonl", R"({"chat_id": 2, "parent_chat_id": -1,)"), {}, 2, "json", "invalid JSON");
  expect_error(bailian("missing.jsonl",
                       R"({"chat_id": 2, "parent_chat_id": -1, "timestamp": 1, "output_length": 4, "type": "text", "turn": 1, "hash_ids": []})"),
               {}, 2, "input_length", "missing field");
  expect_error(bailian("negative.jsonl",
                       R"({"chat_id": 2, "parent_chat_id": -1, "timestamp": 1, "input_length": -5, "output_length": 4, "type": "text", "turn": 1, "hash_ids": []})"),
               {}, 2, "input_length", "expected a non-negative token count, got -5");
  expect_error(bailian("hashes.jsonl",
                       R"({"chat_id": 2, "parent_chat_id": -1, "timestamp": 1, "input_length": 33, "output_length": 4, "type": "text", "turn": 1, "hash_ids": [1, 2]})"),
               {}, 2, "hash_ids", "2 hashes for 33 input tokens; expected 3");
  expect_error(bailian("type.jsonl",
                       R"({"chat_id": 2, "parent_chat_id": -1, "timestamp": "1", "input_length": 3, "output_length": 4, "type": "text", "turn": 1, "hash_ids": [1]})"),
               {}, 2, "timestamp", "expected a number, got a string");
  expect_error(bailian("duplicate.jsonl", kBailianLine), {}, 2, "chat_id", "duplicate request id 1 (first on line 1)");
  expect_error(bailian("back.jsonl",
                       R"({"chat_id": 2, "parent_chat_id": -1, "timestamp": 0.25, "input_length": 3, "output_length": 4, "type": "text", "turn": 1, "hash_ids": [1]})"),
               {}, 2, "timestamp",
               "timestamps go back from 0.5 s (line 1) to 0.25 s (line 2); pass --sort to sort the trace");

  // Mooncake times are in ms in the file, seconds in the message.
  const std::string moon = dir.write("moon.jsonl",
                                     "{\"timestamp\": 2000, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n"
                                     "{\"timestamp\": 1500, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [2]}\n");
  expect_error(moon, {}, 2, "timestamp", "timestamps go back from 2 s (line 1) to 1.5 s (line 2)");

  // Unknown format, named or undetectable.
  TraceOptions named;
  named.format = "parquet";
  expect_error(moon, named, 0, "format", "unknown trace format \"parquet\"");
  const std::string garbage = dir.write("g.txt", "\n\nhello world\n");
  expect_error(garbage, {}, 3, "format", "cannot tell the trace format");
  expect_error(dir.write("empty.jsonl", "\n"), {}, 0, "", "the trace is empty");
  expect_error(dir.file("absent.jsonl"), {}, 0, "", "cannot open the trace");

  // kvsim: a header is required.
  const std::string headless = dir.write("k.jsonl", kBailianLine + "\n");
  TraceOptions kv;
  kv.format = "kvsim";
  expect_error(headless, kv, 1, "format", "expected the header");
}

TEST_CASE("trace skip_bad_lines: malformed and out-of-order lines are counted and skipped") {
  ScratchDir dir;
  const std::string path = dir.write(
      "t.jsonl",
      "{\"timestamp\": 1000, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n"
      "{\"timestamp\": 1100, \"input_length\": -1, \"output_length\": 1, \"hash_ids\": []}\n"
      "not json\n"
      "{\"timestamp\": 900, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [2]}\n"
      "{\"timestamp\": 1200, \"input_length\": 600, \"output_length\": 1, \"hash_ids\": [3]}\n"
      "{\"timestamp\": 1300, \"input_length\": 2, \"output_length\": 1, \"hash_ids\": [4]}\n");
  TraceOptions o;
  o.skip_bad_lines = true;
  auto source = open_trace(path, o);
  const auto r = read_all(*source);
  REQUIRE(r.size() == 2);
  CHECK(r[1].arrival == doctest::Approx(0.3));
  CHECK(r[1].input_tokens == 2);
  CHECK(reported(*source, "bad_lines") == 4);
}

TEST_CASE("trace block mapping: trace 16 to engine 32, trace 512 to engine 16, equal sizes") {
  const std::vector<BlockId> p{100, 200, 300};
  // Equal sizes: the trace's identities unchanged, partial last block included.
  CHECK(map_trace_blocks(p, 40, 16, 16) == p);
  // 16 -> 32: engine block 0 ends with trace block 1, block 1 (tokens 32..39) ends where
  // the request's partial trace block 2 ends.
  CHECK(map_trace_blocks(p, 40, 16, 32) == std::vector<BlockId>{200, 300});
  CHECK(map_trace_blocks(p, 48, 16, 32) == std::vector<BlockId>{200, 300});
  // 16 -> 24: engine block 0 ends 8 tokens into trace block 1.
  CHECK(map_trace_blocks(p, 40, 16, 24) == std::vector<BlockId>{chain_block(200, 8), 300});
  // 512 -> 16: 32 engine blocks per trace block; the one ending a trace block takes its id.
  const std::vector<BlockId> m{7, 8};
  const auto e = map_trace_blocks(m, 600, 512, 16);
  REQUIRE(e.size() == 38);
  CHECK(e[0] == chain_block(7, 16));
  CHECK(e[30] == chain_block(7, 496));
  CHECK(e[31] == 7);
  CHECK(e[32] == chain_block(8, 16));
  CHECK(e[37] == 8);  // tokens 592..599: the end of the request's partial block 1
  CHECK(map_trace_blocks({}, 600, 512, 16).empty());

  // Through a reader: two Mooncake requests sharing their first 512-token block share
  // exactly the 32 engine blocks inside it.
  ScratchDir dir;
  const std::string path = dir.write("m.jsonl",
                                     "{\"timestamp\": 0, \"input_length\": 1024, \"output_length\": 1, \"hash_ids\": [1, 2]}\n"
                                     "{\"timestamp\": 1, \"input_length\": 700, \"output_length\": 1, \"hash_ids\": [1, 3]}\n");
  const auto r = read_all(path);  // engine block size 16 by default
  REQUIRE(r.size() == 2);
  REQUIRE(r[0].blocks.size() == 64);
  REQUIRE(r[1].blocks.size() == 44);
  int shared = 0;
  for (std::size_t j = 0; j < 44; ++j) shared += r[0].blocks[j] == r[1].blocks[j];
  CHECK(shared == 32);

  // Bailian 16 -> engine 32 through the reader: chained, then every second one.
  TraceOptions o;
  o.block_size = 32;
  const auto b = read_all(golden("bailian_sample.jsonl"), o);
  CHECK(b[0].blocks == std::vector<BlockId>{chain({1, 2}), chain({1, 2, 3})});
  CHECK(b[3].blocks == std::vector<BlockId>{chain({1})});
  // trace_block_size overrides the format's default.
  TraceOptions t;
  t.trace_block_size = 20;
  t.block_size = 20;
  expect_error(golden("bailian_sample.jsonl"), t, 1, "hash_ids", "3 hashes for 40 input tokens; expected 2");
}

TEST_CASE("trace window, limit and speed: window on trace time, then rebase, then divide") {
  const std::string path = golden("mooncake_sample.jsonl");  // 0, 0, 40, 277, ... 12075 ms
  TraceOptions o;
  o.window_start = 0.04;
  o.window_end = 1.0;
  const auto w = read_all(path, o);
  REQUIRE(!w.empty());
  CHECK(w[0].arrival == 0.0);
  CHECK(w[0].input_tokens == 23769);  // the line at 40 ms
  CHECK(w[1].arrival == doctest::Approx(0.237));
  for (const auto& q : w) CHECK(q.arrival <= 0.96 + 1e-12);

  TraceOptions l;
  l.limit = 3;
  l.speed = 4.0;
  const auto s = read_all(path, l);
  REQUIRE(s.size() == 3);
  CHECK(s[2].arrival == doctest::Approx(0.01));
  CHECK(s[2].id == 2);

  TraceOptions k;
  k.format = "kvsim";
  k.speed = 2.0;
  k.block_size = 4;
  const auto t = read_all(golden("kvsim_sample.jsonl"), k);
  CHECK(t[1].arrival == 0.0625);
  CHECK(t[1].think_time == 2.25);  // think times are scaled like inter-arrival times

  // A window that excludes a parent makes its child a session root.
  TraceOptions b;
  b.window_start = 3.0;
  const auto c = read_all(golden("bailian_sample.jsonl"), b);
  REQUIRE(c.size() == 3);
  CHECK(c[0].id == 12);
  CHECK(c[0].parent == -1);
  CHECK(c[0].session == 12);
  CHECK(c[1].session == 12);
  CHECK(c[1].parent == 12);
}

TEST_CASE("trace sort: out-of-order timestamps sorted stably when asked") {
  ScratchDir dir;
  const std::string path = dir.write("t.jsonl",
                                     "{\"timestamp\": 3000, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n"
                                     "{\"timestamp\": 1000, \"input_length\": 2, \"output_length\": 1, \"hash_ids\": [2]}\n"
                                     "{\"timestamp\": 2000, \"input_length\": 3, \"output_length\": 1, \"hash_ids\": [3]}\n"
                                     "{\"timestamp\": 1000, \"input_length\": 4, \"output_length\": 1, \"hash_ids\": [4]}\n");
  TraceOptions o;
  o.sort = true;
  auto source = open_trace(path, o);
  CHECK(source->expected_count() == 4);
  const auto r = read_all(*source);
  REQUIRE(r.size() == 4);
  const std::vector<std::uint32_t> inputs{2, 4, 3, 1};
  const std::vector<double> arrivals{0, 0, 1, 2};
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(r[i].input_tokens == inputs[i]);
    CHECK(r[i].arrival == arrivals[i]);
    CHECK(r[i].id == i);
  }
}

TEST_CASE("trace format detection from the first non-empty line") {
  CHECK(detect_trace_format(golden("bailian_sample.jsonl")) == "bailian");
  CHECK(detect_trace_format(golden("mooncake_sample.jsonl")) == "mooncake");
  CHECK(detect_trace_format(golden("azure_conv_sample.csv")) == "azure");
  CHECK(detect_trace_format(golden("burstgpt_sample.csv")) == "burstgpt");
  CHECK(detect_trace_format(golden("kvsim_sample.jsonl")) == "kvsim");
  CHECK(trace_format_names() == std::vector<std::string>{"bailian", "mooncake", "azure", "burstgpt", "kvsim"});
  CHECK(trace_writer_names() == std::vector<std::string>{"kvsim", "bailian", "mooncake"});
  // An explicit format overrides detection: a Bailian file read as Mooncake (ms times,
  // 512-token blocks) fails on its hash count.
  TraceOptions o;
  o.format = "mooncake";
  expect_error(golden("bailian_sample.jsonl"), o, 1, "hash_ids", "3 hashes for 40 input tokens; expected 1");
}

namespace {

// Requests exercising every field, first arrival 0 (as any trace read by kvsim).
std::vector<Request> sample_requests() {
  std::vector<Request> v(4);
  v[0] = {0, 0, -1, 1, 0, 0, 0.0, -1.0, 40, 5, {chain({1}), chain({1, 2}), chain({1, 2, 3})}};
  v[1] = {1, 1, -1, 1, 1, 3, 0.1, -1.0, 20, 7, {chain({1}), chain({1, 9})}};
  v[2] = {2, 0, 0, 2, 0, 0, 1.0 / 3.0, 12.75, 50, 3,
          {chain({1}), chain({1, 2}), chain({1, 2, 5}), std::numeric_limits<std::uint64_t>::max()}};
  v[3] = {7, 7, -1, 1, 1, 255, 1e-9 + 2.0, -1.0, 33, 1, {}};
  return v;
}

void check_same(const Request& a, const Request& b) {
  CHECK(a.id == b.id);
  CHECK(a.session == b.session);
  CHECK(a.parent == b.parent);
  CHECK(a.turn == b.turn);
  CHECK(a.category == b.category);
  CHECK(a.priority == b.priority);
  CHECK(a.arrival == b.arrival);
  CHECK(a.think_time == b.think_time);
  CHECK(a.input_tokens == b.input_tokens);
  CHECK(a.output_tokens == b.output_tokens);
  CHECK(a.blocks == b.blocks);
}

// Blocks i, j of requests a, b are equal exactly when they were equal before.
void check_same_equalities(const std::vector<Request>& before, const std::vector<Request>& after) {
  REQUIRE(before.size() == after.size());
  for (std::size_t a = 0; a < before.size(); ++a)
    for (std::size_t b = 0; b < before.size(); ++b) {
      if (before[a].blocks.empty() || before[b].blocks.empty()) continue;
      REQUIRE(after[a].blocks.size() == before[a].blocks.size());
      for (std::size_t i = 0; i < before[a].blocks.size(); ++i)
        for (std::size_t j = 0; j < before[b].blocks.size(); ++j)
          CHECK((before[a].blocks[i] == before[b].blocks[j]) == (after[a].blocks[i] == after[b].blocks[j]));
    }
}

}  // namespace

TEST_CASE("trace writers: kvsim round trip is loss-free") {
  ScratchDir dir;
  const auto requests = sample_requests();
  VectorSource source(requests, {"text", "api \"quoted\""});
  const std::string path = dir.file("out.jsonl");
  write_trace(source, path, "kvsim", 16);
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  auto back = open_trace(path, {});
  const auto r = read_all(*back);
  REQUIRE(r.size() == requests.size());
  CHECK(back->categories() == std::vector<std::string>{"text", "api \"quoted\""});
  for (std::size_t i = 0; i < r.size(); ++i) {
    CAPTURE(i);
    check_same(r[i], requests[i]);
  }
}

TEST_CASE("trace writers: bailian and mooncake number hash_ids by first appearance and re-read with equal identities") {
  ScratchDir dir;
  const auto requests = sample_requests();
  for (const std::string format : {"bailian", "mooncake"}) {
    CAPTURE(format);
    VectorSource source(requests, {"text", "api"});
    const std::string path = dir.file("out." + format);
    write_trace(source, path, format, 16);
    TraceOptions o;
    o.trace_block_size = 16;
    const auto r = read_all(path, o);
    REQUIRE(r.size() == requests.size());
    check_same_equalities(requests, r);
    for (std::size_t i = 0; i < r.size(); ++i) {
      CHECK(r[i].input_tokens == requests[i].input_tokens);
      CHECK(r[i].output_tokens == requests[i].output_tokens);
      CHECK(r[i].arrival == doctest::Approx(requests[i].arrival).epsilon(1e-15));
    }
    // A request without hashes comes back with blocks no other request shares.
    REQUIRE(r[3].blocks.size() == 3);
    for (std::size_t a = 0; a < 3; ++a)
      for (const auto id : r[3].blocks) CHECK(std::count(r[a].blocks.begin(), r[a].blocks.end(), id) == 0);
    // hash_ids are numbered 0, 1, ... in order of first appearance, as the published traces
    // number them: request 0's three blocks, request 1's new second block, request 2's
    // two new blocks, then request 3's three blocks of its own.
    const std::vector<std::vector<BlockId>> numbered = {{0, 1, 2}, {0, 3}, {0, 1, 4, 5}, {6, 7, 8}};
    std::vector<std::vector<BlockId>> written;
    std::ifstream file(path);
    for (std::string line; std::getline(file, line);) {
      const auto open = line.find("\"hash_ids\": [") + 13, close = line.find(']', open);
      std::vector<BlockId> ids;
      for (std::size_t at = open; at < close;) {
        std::size_t used = 0;
        ids.push_back(std::stoull(line.substr(at, close - at), &used));
        at += used;
        while (at < close && (line[at] == ',' || line[at] == ' ')) ++at;
      }
      written.push_back(ids);
    }
    CHECK(written == numbered);
    if (format == "mooncake") {
      CHECK(r[0].blocks == numbered[0]);  // read at the block size written: the numbers themselves
    } else {
      CHECK(r[2].parent == 0);
      CHECK(r[2].session == 0);
      CHECK(r[1].category == 1);
    }
  }
}

TEST_CASE("trace writers: unwritable path and unknown format are input errors, nothing left behind") {
  ScratchDir dir;
  VectorSource source(sample_requests(), {"text", "api"});
  CHECK_THROWS_AS(write_trace(source, dir.file("no/such/dir/out.jsonl"), "kvsim", 16), InputError);
  try {
    write_trace(source, dir.file("out.csv"), "azure", 16);
    FAIL("azure is not writable");
  } catch (const InputError& e) {
    CHECK(e.field() == "format");
    CHECK(std::string(e.what()).find("writable: kvsim, bailian, mooncake") != std::string::npos);
  }
  // Blocks that do not match the block size given are refused, and no partial file stays.
  VectorSource wrong(sample_requests(), {"text", "api"});
  CHECK_THROWS_AS(write_trace(wrong, dir.file("w.jsonl"), "mooncake", 512), InputError);
  CHECK(dir.entries().empty());
}

TEST_CASE("trace streaming: a 200k-line file is read line by line as next() is called") {
  ScratchDir dir;
  const std::string path = dir.file("big.jsonl");
  const long lines = 200'000;
  {
    std::ofstream out(path);
    for (long i = 0; i < lines; ++i)
      out << "{\"timestamp\": " << i << ", \"input_length\": 1000, \"output_length\": 10, \"hash_ids\": [" << 2 * i
          << ", " << 2 * i + 1 << "]}\n";
  }
  auto source = open_trace(path, {});
  for (int i = 0; i < 10; ++i) {
    const auto r = source->next();
    REQUIRE(r);
    CHECK(r->id == std::uint64_t(i));
  }
  // Corrupt the last line after opening: a reader that had loaded the file would not see it;
  // a streaming one meets it when it gets there.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f << "!";  // "...]}" -> "...!}"
  }
  std::uint64_t count = 10;
  try {
    while (source->next()) ++count;
    FAIL("the corrupted last line was not read");
  } catch (const InputError& e) {
    CHECK(e.line() == lines);
    CHECK(count == std::uint64_t(lines - 1));
  }
}
