// The cache replay fed while the trace loads (StreamingReplay, `kvsim cache`'s first row)
// gives exactly what the replay of the loaded trace gives, for every policy that can be
// streamed, including wa, whose per-category models are resolved by names that a trace
// source registers only as it reads them; and a source out of arrival order is noticed.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "models/kvcache/cache_replay.hpp"
#include "models/kvcache/eviction/wa_profile.hpp"
#include "models/kvcache/flat_index.hpp"
#include "sim/util/random.hpp"

using namespace kvsim;
using namespace kvsim::kvcache;
using namespace kvsim::kvcache::eviction;

namespace {

// Requests of two types ("api", "text") over a few shared prefixes, with turns 1 to 3; the
// type names are registered as the first request of each type is read, like a trace's.
class GrowingSource final : public workload::Source {
 public:
  GrowingSource(std::uint64_t seed, std::size_t count, bool shuffled_times) {
    Rng rng(seed);
    double t = 0;
    for (std::size_t i = 0; i < count; ++i) {
      workload::Request r;
      r.id = i;
      r.category = rng.uniform_int(10) < 7 ? 0 : 1;
      r.turn = 1 + std::uint32_t(rng.uniform_int(3));
      t += rng.exponential(2.0);
      r.arrival = shuffled_times && i % 50 == 49 ? t - 5 : t;
      r.input_tokens = 16 * std::uint32_t(1 + rng.uniform_int(24));
      r.output_tokens = 8;
      const std::uint64_t prefix = rng.uniform_int(31);
      workload::BlockId id = workload::chain_block(0, prefix + 1000 * r.category);
      for (std::uint32_t k = 0; k < r.input_tokens / 16; ++k) {
        // The first half of a prompt is its prefix's, the rest its own.
        id = workload::chain_block(id, k < r.input_tokens / 32 ? k : rng.uniform_int(1u << 30));
        r.blocks.push_back(id);
      }
      requests_.push_back(std::move(r));
    }
  }
  std::optional<workload::Request> next() override {
    if (next_ == requests_.size()) return std::nullopt;
    const auto& r = requests_[next_++];
    while (names_.size() <= r.category) names_.push_back(names_.size() == 0 ? "api" : "text");
    return r;
  }
  const std::vector<std::string>& categories() const override { return names_; }

 private:
  std::vector<workload::Request> requests_;
  std::vector<std::string> names_;
  std::size_t next_ = 0;
};

void check_same(const ReplayResult& a, const ReplayResult& b) {
  CHECK(a.requests == b.requests);
  CHECK(a.requested_blocks == b.requested_blocks);
  CHECK(a.hit_blocks == b.hit_blocks);
  CHECK(a.requested_tokens == b.requested_tokens);
  CHECK(a.hit_tokens == b.hit_tokens);
  CHECK(a.evictions == b.evictions);
  CHECK(a.peak_resident == b.peak_resident);
}

}  // namespace

TEST_CASE("streaming replay: the same results as replaying the loaded trace, for every streamable policy") {
  // A profile where the two types differ, so that wa's decisions depend on the names.
  auto profile = std::make_shared<WaProfile>();
  profile->categories["api_1"] = {0.5, 0.8, 100};
  profile->categories["api_2"] = {0.05, 0.3, 100};
  profile->categories["text_1"] = {0.01, 0.1, 100};
  profile->categories["text_3"] = {0.2, 0.6, 100};
  for (const auto& name : policy_names()) {
    if (find_policy(name).needs_future) continue;
    const PolicyParams params = resolve_params(find_policy(name), {}, profile);
    for (const std::uint64_t capacity : {20u, 150u, 1000u}) {
      CAPTURE(name);
      CAPTURE(capacity);
      GrowingSource source(7, 1500, false);
      StreamingReplay streamed(name, params, capacity);
      const ReplayTrace trace =
          load_replay_trace(source, 16, kNever, "test", [&](const ReplayTrace& t) { streamed.add(t); });
      REQUIRE(trace.categories.size() == 10);  // 2 types x 5 turn buckets
      CHECK(streamed.in_order());
      const ReplayResult whole = replay(trace, name, params, capacity);
      CHECK(whole.hit_blocks > 0);
      check_same(streamed.finish(), whole);
    }
  }
}

TEST_CASE("streaming replay: a load keeping only unreplayed requests gives the same results and whole counts") {
  // The streamed result, the request and access counts and the category names are those of
  // the whole load, while the returned trace holds no request (1500 is not a multiple of
  // kLoadedEvery, so the last hand-over is a partial one) and the loaded callback never saw
  // more than kLoadedEvery requests at once.
  for (const char* name : {"lru", "fifo", "sieve", "s3fifo"}) {
    CAPTURE(name);
    const PolicyParams params = resolve_params(find_policy(name), {}, nullptr);
    GrowingSource whole_source(7, 1500, false);
    const ReplayTrace whole = load_replay_trace(whole_source, 16);
    const ReplayResult expected = replay(whole, name, params, 150);

    GrowingSource source(7, 1500, false);
    StreamingReplay streamed(name, params, 150);
    std::size_t most_held = 0;
    const ReplayTrace trace = load_replay_trace(
        source, 16, kNever, "test",
        [&](const ReplayTrace& t) {
          most_held = std::max(most_held, t.requests.size());
          streamed.add(t);
        },
        LoadKeeps::unreplayed);
    CHECK(trace.requests.empty());
    CHECK(trace.blocks.empty());
    CHECK(trace.request_count() == 1500);
    CHECK(trace.accesses() == whole.accesses());
    CHECK(trace.categories == whole.categories);
    CHECK(most_held == kLoadedEvery);
    CHECK(streamed.in_order());
    check_same(streamed.finish(), expected);
  }
}

TEST_CASE("streaming replay: a load keeping only unreplayed requests refuses a source out of order") {
  GrowingSource source(3, 200, true);
  StreamingReplay streamed("lru", {}, 100);
  CHECK_THROWS_AS(load_replay_trace(
                      source, 16, kNever, "test", [&](const ReplayTrace& t) { streamed.add(t); },
                      LoadKeeps::unreplayed),
                  std::logic_error);
  GrowingSource again(3, 200, false);
  CHECK_THROWS_AS(load_replay_trace(again, 16, kNever, "test", {}, LoadKeeps::unreplayed), std::invalid_argument);
}

TEST_CASE("streaming replay: a source out of arrival order is noticed, and opt is refused") {
  GrowingSource source(3, 200, true);
  StreamingReplay streamed("lru", {}, 100);
  (void)load_replay_trace(source, 16, kNever, "test", [&](const ReplayTrace& t) { streamed.add(t); });
  CHECK_FALSE(streamed.in_order());
  CHECK_THROWS_AS(StreamingReplay("opt", {}, 100), std::logic_error);
}

TEST_CASE("flat index: erase by identity and value removes only a matching entry") {
  FlatIndex<std::uint32_t> index(4);
  for (std::uint32_t k = 0; k < 40; ++k) index.put(k, k + 100);
  CHECK_FALSE(index.erase(7, 5));  // present, another value: kept
  CHECK(index.size() == 40);
  REQUIRE(index.find(7));
  CHECK(*index.find(7) == 107);
  CHECK(index.erase(7, 107));
  CHECK_FALSE(index.find(7));
  CHECK_FALSE(index.erase(7, 107));  // absent
  CHECK(index.size() == 39);
  for (std::uint32_t k = 0; k < 40; ++k)
    if (k != 7) CHECK(*index.find(k) == k + 100);  // the backward shift kept the others findable
}
