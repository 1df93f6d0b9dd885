// The read-ahead source (workloads/readers/read_ahead.hpp) changes nothing but timing: the
// same requests in the same order, category names available with the requests that use
// them, the inner source's error after the requests before it, and an early stop.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/util/error.hpp"
#include "workloads/readers/read_ahead.hpp"

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
