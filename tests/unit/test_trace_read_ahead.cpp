// The read-ahead source (workloads/readers/read_ahead.hpp) changes nothing but timing: the
// same requests in the same order, category names available with the requests that use
// them, the inner source's error after the requests before it, and an early stop.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/util/error.hpp"
#include "workloads/readers/read_ahead.hpp"
#include "workloads/readers/trace.hpp"

using namespace kvsim::workload;

namespace {

// n requests; request i has category i / 1000 (a new name every 1000 requests, added when
// first used, as the trace readers do); throws InputError at request fail_at.
class CountingSource final : public Source {
 public:
  CountingSource(std::uint64_t n, std::uint64_t fail_at) : n_(n), fail_at_(fail_at) {}
  std::optional<Request> next() override {
    if (i_ == fail_at_) throw kvsim::InputError("t.jsonl", long(i_ + 1), "timestamp", "bad");
    if (i_ == n_) return std::nullopt;
    Request r;
    r.id = i_;
    r.arrival = double(i_);
    r.category = std::uint16_t(i_ / 1000);
    if (r.category >= names_.size()) names_.push_back("type" + std::to_string(r.category));
    r.blocks = {i_, i_ + 1};
    ++i_;
    return r;
  }
  const std::vector<std::string>& categories() const override { return names_; }
  std::vector<std::pair<std::string, std::uint64_t>> report() const override { return {{"read", i_}}; }

 private:
  std::uint64_t n_, fail_at_, i_ = 0;
  std::vector<std::string> names_;
};

}  // namespace

TEST_CASE("read ahead: same requests in the same order, categories with them, report at the end") {
  auto source = read_ahead(std::make_unique<CountingSource>(5000, ~0ULL));
  std::uint64_t expected = 0;
  while (auto r = source->next()) {
    REQUIRE(r->id == expected);
    CHECK(r->blocks == std::vector<BlockId>{expected, expected + 1});
    REQUIRE(r->category < source->categories().size());
    ++expected;
  }
  CHECK(expected == 5000);
  CHECK(source->categories().size() == 5);
  CHECK(source->categories()[4] == "type4");
  CHECK(source->report() == std::vector<std::pair<std::string, std::uint64_t>>{{"read", 5000}});
  CHECK_FALSE(source->next());
}

TEST_CASE("read ahead: the inner error comes after the requests before it") {
  auto source = read_ahead(std::make_unique<CountingSource>(5000, 1234));
  std::uint64_t got = 0;
  try {
    while (source->next()) ++got;
    FAIL("no error");
  } catch (const kvsim::InputError& e) {
    CHECK(got == 1234);
    CHECK(e.line() == 1235);
    CHECK(e.field() == "timestamp");
  }
}

TEST_CASE("read ahead: stopping early joins the reader") {
  auto source = read_ahead(std::make_unique<CountingSource>(100000, ~0ULL));
  for (int i = 0; i < 10; ++i) REQUIRE(source->next());
  source.reset();  // must not hang or crash while the reader is blocked on a full queue
  CHECK(true);
}

TEST_CASE("read ahead: next_into with one reused Request gives every field of every request") {
  // A kvsim-format trace whose requests alternate optional keys and block counts (none, 1,
  // 3, 1500 -- above what recycled storage keeps -- and 60), so a field or block left over
  // from the previous request in the reused Request would show.
  const auto path = std::filesystem::temp_directory_path() / "kvsim_test_read_ahead_next_into.jsonl";
  const std::uint64_t n = 2000;
  const std::size_t counts[] = {0, 1, 3, 1500, 60};
  {
    std::ofstream out(path);
    out << R"({"format": "kvsim", "version": 1, "block_size": 16, "categories": ["a", "b"]})" << "\n";
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::size_t blocks = counts[i % 5];
      out << "{\"id\": " << i << ", \"arrival\": " << i << ".5, \"session\": " << i / 2
          << ", \"parent\": " << (i % 2 ? std::int64_t(i) - 1 : -1) << ", \"turn\": " << 1 + i % 2
          << ", \"type\": \"" << (i % 3 ? "a" : "b") << "\", \"input_tokens\": " << (blocks ? blocks * 16 : 40)
          << ", \"output_tokens\": " << i % 7;
      if (i % 4 == 0) out << ", \"priority\": 5, \"think_time\": 2.5";
      out << ", \"blocks\": [";
      for (std::size_t k = 0; k < blocks; ++k) out << (k ? ", " : "") << 18446744073709551615ULL - i * 10000 - k;
      out << "]}\n";
    }
  }
  auto source = read_ahead(open_trace(path.string(), {}));
  Request r;
  std::uint64_t i = 0;
  while (source->next_into(r)) {
    CAPTURE(i);
    const std::size_t blocks = counts[i % 5];
    REQUIRE(r.id == i);
    CHECK(r.arrival == double(i));  // rebased to the first arrival, 0.5 s
    CHECK(r.session == i / 2);
    CHECK(r.parent == (i % 2 ? std::int64_t(i) - 1 : -1));
    CHECK(r.turn == 1 + i % 2);
    CHECK(source->categories()[r.category] == (i % 3 ? "a" : "b"));
    CHECK(r.input_tokens == (blocks ? blocks * 16 : 40));
    CHECK(r.output_tokens == i % 7);
    CHECK(r.priority == (i % 4 == 0 ? 5 : 0));
    CHECK(r.think_time == (i % 4 == 0 ? 2.5 : -1.0));
    REQUIRE(r.blocks.size() == blocks);
    for (std::size_t k = 0; k < blocks; ++k) REQUIRE(r.blocks[k] == 18446744073709551615ULL - i * 10000 - k);
    ++i;
  }
  CHECK(i == n);
  CHECK_FALSE(source->next_into(r));
  std::filesystem::remove(path);
}

TEST_CASE("read ahead: next_into of a source with only next() gives the same stream") {
  auto source = read_ahead(std::make_unique<CountingSource>(3000, ~0ULL));
  Request r;
  std::uint64_t expected = 0;
  while (source->next_into(r)) {
    REQUIRE(r.id == expected);
    CHECK(r.blocks == std::vector<BlockId>{expected, expected + 1});
    ++expected;
  }
  CHECK(expected == 3000);
}
