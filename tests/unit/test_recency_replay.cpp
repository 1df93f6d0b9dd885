// The replay's own lru and fifo (models/kvcache/recency_replay.hpp, a queue of recency
// entries with stale ones skipped) against hand-computed answers and against the generic
// replay driving eviction/lru.cpp and fifo.cpp, on traces that exercise what the queue
// must get right: hits that leave stale entries, compaction, a request larger than the
// cache, a slot reused after eviction and an identity repeated inside one request.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/kvcache/cache_replay.hpp"
#include "sim/util/random.hpp"

using namespace kvsim;
using namespace kvsim::kvcache;

namespace {

ReplayTrace trace_of(const std::vector<std::vector<workload::BlockId>>& requests) {
  ReplayTrace trace;
  trace.block_size = 16;
  trace.categories = category_names({"default"});
  double t = 0;
  for (const auto& ids : requests) {
    ReplayTrace::Request r;
    r.first = trace.blocks.size();
    r.count = static_cast<std::uint32_t>(ids.size());
    r.last_tokens = 16;
    r.arrival = t += 1;
    trace.blocks.insert(trace.blocks.end(), ids.begin(), ids.end());
    trace.requests.push_back(r);
  }
  return trace;
}

void check_same(const ReplayResult& a, const ReplayResult& b) {
  CHECK(a.requested_blocks == b.requested_blocks);
  CHECK(a.hit_blocks == b.hit_blocks);
  CHECK(a.requested_tokens == b.requested_tokens);
  CHECK(a.hit_tokens == b.hit_tokens);
  CHECK(a.evictions == b.evictions);
  CHECK(a.peak_resident == b.peak_resident);
}

}  // namespace

TEST_CASE("recency replay: lru and fifo by hand on A B C A D B C with room for three blocks") {
  // lru: A B C miss; A hits (order B C A); D evicts B; B evicts C; C evicts A: 1 hit, 3 evictions.
  // fifo: A B C miss; A hits (order stays A B C); D evicts A; B and C hit: 3 hits, 1 eviction.
  const ReplayTrace trace = trace_of({{1}, {2}, {3}, {1}, {4}, {2}, {3}});
  const ReplayResult lru = replay(trace, "lru", {}, 3);
  CHECK(lru.hit_blocks == 1);
  CHECK(lru.evictions == 3);
  CHECK(lru.hit_tokens == 16);
  const ReplayResult fifo = replay(trace, "fifo", {}, 3);
  CHECK(fifo.hit_blocks == 3);
  CHECK(fifo.evictions == 1);
  CHECK(fifo.peak_resident == 3);
}

TEST_CASE("recency replay: a request touches tail to head, so its tail leaves first") {
  // [1 2 3] then [4]: with room for three, lru and fifo both evict 3 (the tail, touched
  // first); so [1 2] then hits both blocks, and [3] misses.
  const ReplayTrace trace = trace_of({{1, 2, 3}, {4}, {1, 2}, {3}});
  for (const char* policy : {"lru", "fifo"}) {
    CAPTURE(policy);
    const ReplayResult r = replay(trace, policy, {}, 3);
    CHECK(r.hit_blocks == 2);
    CHECK(r.evictions == 2);  // 3 for [4]; for [3], 4 (lru: order 4 2 1) or 2 (fifo: order 2 1 4)
  }
}

TEST_CASE("recency replay: identical to the generic replay on random prefix traffic") {
  // Shared prefixes of varying length, private tails, a request now and then that repeats
  // an identity or is longer than the smallest cache; many hits, so the queue compacts.
  Rng rng(11);
  std::vector<std::vector<workload::BlockId>> requests;
  for (int i = 0; i < 6000; ++i) {
    std::vector<workload::BlockId> ids;
    const std::uint64_t prefix = rng.uniform_int(40);
    workload::BlockId id = workload::chain_block(0, prefix);
    const std::uint64_t shared = 1 + rng.uniform_int(30);
    const std::uint64_t own = rng.uniform_int(i % 97 == 0 ? 300 : 12);
    for (std::uint64_t k = 0; k < shared + own; ++k) {
      id = workload::chain_block(id, k < shared ? k : 1000 + rng.uniform_int(1u << 20));
      ids.push_back(id);
    }
    if (i % 211 == 0 && ids.size() > 2) ids.push_back(ids[1]);  // a broken trace's repeat
    if (i % 503 == 0) ids.clear();                             // a request without blocks
    requests.push_back(std::move(ids));
  }
  const ReplayTrace trace = trace_of(requests);
  for (const char* policy : {"lru", "fifo"})
    for (const std::uint64_t capacity : {1u, 7u, 100u, 1000u, 5000u, 100000u}) {
      CAPTURE(policy);
      CAPTURE(capacity);
      const ReplayResult fast = replay(trace, policy, {}, capacity, ReplayPath::fastest);
      const ReplayResult generic = replay(trace, policy, {}, capacity, ReplayPath::generic);
      if (capacity >= 100) CHECK(generic.hit_blocks > 0);
      check_same(fast, generic);
    }
}

TEST_CASE("recency replay: evicted identities leave stale index entries that never count, through many sweeps") {
  // 20000 one-block requests of fresh identities with room for 10 blocks: all miss and all
  // but the last 10 are evicted. The index keeps evicted entries until a sweep at half load
  // (a table of 64 entries here: a sweep every ~20 insertions), and a slot freed by an
  // eviction is reused at once by the next identity, so stale entries point at slots
  // holding other identities. Then the 10 resident identities, newest first, all hit; the
  // 10 evicted just before them all miss (each evicting one). By hand, for lru and fifo.
  std::vector<std::vector<workload::BlockId>> requests;
  for (workload::BlockId id = 1; id <= 20000; ++id) requests.push_back({id});
  for (workload::BlockId id = 20000; id > 19990; --id) requests.push_back({id});
  for (workload::BlockId id = 19990; id > 19980; --id) requests.push_back({id});
  const ReplayTrace trace = trace_of(requests);
  for (const char* policy : {"lru", "fifo"}) {
    CAPTURE(policy);
    const ReplayResult r = replay(trace, policy, {}, 10);
    CHECK(r.requested_blocks == 20020);
    CHECK(r.hit_blocks == 10);
    CHECK(r.evictions == 19990 + 10);
    CHECK(r.peak_resident == 10);
  }
}

TEST_CASE("recency replay: an identity evicted and requested again is a miss, then resident again") {
  // Room for two blocks; A B C evicts A (its slot goes to C); A again misses and evicts B;
  // the cache then holds C and A, so both hit: 2 hits, 2 evictions, for lru and fifo alike
  // (no eviction follows the hits, so their order does not matter).
  const ReplayTrace trace = trace_of({{1}, {2}, {3}, {1}, {3}, {1}});
  for (const char* policy : {"lru", "fifo"}) {
    CAPTURE(policy);
    const ReplayResult r = replay(trace, policy, {}, 2);
    CHECK(r.hit_blocks == 2);
    CHECK(r.evictions == 2);
  }
}
