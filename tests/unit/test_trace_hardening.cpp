// Trace readers under hostile input (issue 10): nothing dropped silently, no overflow, no
// unbounded read or allocation, the real error reported even on the first line, and
// error messages of bounded size. Each case failed before its fix.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "models/kvcache/cache_replay.hpp"
#include "sim/util/error.hpp"
#include "tests/sim/cli_helpers.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/vector_source.hpp"

using kvsim::InputError;
using kvsim::test::ScratchDir;
using namespace kvsim::workload;

namespace {

std::vector<Request> read_all(const std::string& path, TraceOptions options = {}) {
  auto source = open_trace(path, options);
  std::vector<Request> out;
  while (auto r = source->next()) out.push_back(std::move(*r));
  return out;
}

InputError error_of(const std::string& path, TraceOptions options = {}) {
  try {
    (void)read_all(path, options);
  } catch (const InputError& e) {
    return e;
  }
  FAIL("no error reading " << path);
  return InputError("");
}

const std::string kMooncake = R"({"timestamp": 0, "input_length": 1, "output_length": 1, "hash_ids": [1]})";

}  // namespace

TEST_CASE("trace hardening: negative timestamps are rebased like any others, never dropped") {
  // Mooncake times in ms: -2000, -1000, 500 -> arrivals 0, 1, 2.5 s after rebasing. Before,
  // the default window (from trace time 0) dropped the first two without a word.
  ScratchDir dir;
  const std::string path =
      dir.write("neg.jsonl",
                "{\"timestamp\": -2000, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n"
                "{\"timestamp\": -1000, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [2]}\n"
                "{\"timestamp\": 500, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [3]}\n");
  const auto r = read_all(path);
  REQUIRE(r.size() == 3);
  CHECK(r[0].arrival == 0.0);
  CHECK(r[1].arrival == 1.0);
  CHECK(r[2].arrival == 2.5);
  // An explicit window still cuts: from trace time -1.5 s keeps the last two.
  TraceOptions window;
  window.window_start = -1.5;
  const auto w = read_all(path, window);
  REQUIRE(w.size() == 2);
  CHECK(w[1].arrival == 1.5);
}

TEST_CASE("trace hardening: Azure years beyond 64-bit nanoseconds are rejected, not wrapped") {
  ScratchDir dir;
  const std::string path = dir.write("far.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                     "2023-11-16 18:15:46,10,1\n"
                                     "9999-12-31 23:59:59,10,1\n");
  const InputError e = error_of(path);
  CHECK(e.line() == 3);
  CHECK(e.field() == "TIMESTAMP");
  CHECK(std::string(e.what()).find("year 9999 is outside 1970-2200") != std::string::npos);
  const std::string early = dir.write("early.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n1600-01-01 00:00:00,1,1\n");
  CHECK(error_of(early).line() == 2);
}

TEST_CASE("trace hardening: a line longer than the cap is an error after a bounded read") {
  // 65 MiB without a newline (what /dev/zero or a binary file looks like to a line reader).
  ScratchDir dir;
  const std::string path = dir.file("huge.jsonl");
  {
    std::ofstream out(path, std::ios::binary);
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 65; ++i) out << chunk;
  }
  const InputError e = error_of(path);
  CHECK(e.line() == 1);
  CHECK(std::string(e.what()).find("line longer than 64 MiB") != std::string::npos);
}

TEST_CASE("trace hardening: a JSON error on the first line is reported as itself, not as an unknown format") {
  ScratchDir dir;
  // Duplicate key on line 1 (format detection used to swallow it).
  const InputError dup = error_of(dir.write(
      "dup.jsonl", R"({"timestamp": 0, "timestamp": 1, "input_length": 1, "output_length": 1, "hash_ids": [1]})"
                   "\n"));
  CHECK(dup.line() == 1);
  CHECK(dup.field() == "timestamp");
  CHECK(std::string(dup.what()).find("duplicate key") != std::string::npos);
  // A control character inside a string on line 1.
  const InputError control = error_of(dir.write("ctl.jsonl", "{\"type\": \"a\tb\", \"timestamp\": 0}\n"));
  CHECK(control.line() == 1);
  CHECK(std::string(control.what()).find("control character inside a string") != std::string::npos);
  // A bad \u escape on line 1, named by its key.
  const InputError escape = error_of(dir.write("esc.jsonl", R"({"timestamp": 0, "type": "\uZZZZ"})" "\n"));
  CHECK(escape.line() == 1);
  CHECK(escape.field() == "type");
  CHECK(std::string(escape.what()).find("invalid escape") != std::string::npos);
  // A UTF-8 byte-order mark at the start of the file is skipped.
  const auto bom = read_all(dir.write("bom.jsonl", "\xEF\xBB\xBF" + kMooncake + "\n"));
  REQUIRE(bom.size() == 1);
  CHECK(bom[0].input_tokens == 1);
}

TEST_CASE("trace hardening: a bad CSV cell is echoed cut short, with its length") {
  ScratchDir dir;
  const std::string cell(1 << 20, '7');
  const std::string path = dir.write(
      "wide.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1" + cell + "x,1\n");
  const InputError e = error_of(path);
  CHECK(e.line() == 2);
  CHECK(e.field() == "ContextTokens");
  const std::string what = e.what();
  CHECK(what.size() < 300);
  CHECK(what.find("(1048578 bytes)") != std::string::npos);
}

TEST_CASE("trace hardening: the cache replay bounds the blocks of one request") {
  // 4,294,967,295 tokens without identities would be 268 M blocks of 16 tokens (2 GiB of
  // identities, then as many cache slots); the replay refuses it by name instead.
  Request r;
  r.id = 7;
  r.input_tokens = 4'294'967'295u;
  VectorSource source({r});
  try {
    (void)kvsim::kvcache::load_replay_trace(source, 16, kvsim::kvcache::eviction::kNever, "big.csv");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.file() == "big.csv");
    CHECK(e.field() == "input_tokens");
    CHECK(std::string(e.what()).find("request 7 has 4294967295 input tokens = 268435456 blocks") != std::string::npos);
  }
  // The largest request allowed still loads.
  Request ok;
  ok.input_tokens = std::uint32_t(16 * kvsim::kvcache::kMaxRequestBlocks);
  VectorSource fine({ok});
  CHECK(kvsim::kvcache::load_replay_trace(fine, 16).accesses() == kvsim::kvcache::kMaxRequestBlocks);
}
