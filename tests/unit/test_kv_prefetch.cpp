// The pieces that let the per-block KV loops issue their probes ahead
// (models/kvcache/prefetch_ahead.hpp): the order walk_ahead calls its two stages in, lru's
// array order (victims in order, upcoming_victim naming them) against a plain linked-list
// reference of least-recently-used, and BlockManager::publish over a run of blocks.
#include <doctest/doctest.h>

#include <algorithm>
#include <list>
#include <random>
#include <vector>

#include "models/kvcache/block_manager.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/prefetch_ahead.hpp"
#include "models/kvcache/prefix_directory.hpp"

using namespace kvsim;
using namespace kvsim::kvcache;

TEST_CASE("walk_ahead issues each item's probes once, kProbesAhead items before handling it, and stops when asked") {
  for (const std::size_t n : {std::size_t{0}, std::size_t{3}, kProbesAhead, std::size_t{40}}) {
    std::vector<std::size_t> ahead_calls;
    std::vector<std::size_t> visits;
    walk_ahead(
        n, [&](std::size_t j) { ahead_calls.push_back(j); },
        [&](std::size_t i) {
          // Every item up to i + kProbesAhead (below n) has had its probes issued, in order.
          CHECK(ahead_calls.size() == std::min(n, i + kProbesAhead + 1));
          visits.push_back(i);
          return true;
        });
    CHECK(visits.size() == n);
    for (std::size_t j = 0; j < ahead_calls.size(); ++j) CHECK(ahead_calls[j] == j);
    CHECK(ahead_calls.size() == n);
  }
  std::vector<std::size_t> visits;
  walk_ahead(40, [](std::size_t) {}, [&](std::size_t i) {
    visits.push_back(i);
    return i < 5;
  });
  CHECK(visits == std::vector<std::size_t>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("lru names its next victims in order, and none past its candidates") {
  eviction::CacheState state;
  auto lru = eviction::make_policy("lru", state, {});
  lru->resize(10);
  for (eviction::Slot s = 0; s < 10; ++s) lru->insert(s);
  for (std::size_t k = 0; k < 10; ++k) CHECK(lru->upcoming_victim(k) == k);
  CHECK(lru->upcoming_victim(10) == eviction::kNoSlot);
  CHECK(lru->victim() == 0);
  CHECK(lru->victim() == 1);
  CHECK(lru->upcoming_victim(0) == 2);
  CHECK(lru->upcoming_victim(7) == 9);
  CHECK(lru->upcoming_victim(8) == eviction::kNoSlot);
  lru->touch(2);  // 3 4 ... 9 2
  CHECK(lru->victim() == 3);
  CHECK(lru->upcoming_victim(6) == 2);
}

TEST_CASE("lru evicts exactly as a linked list of least to most recently used does, across compactions") {
  // Reference: std::list from least to most recent, each operation as the policy protocol
  // defines it (insert and touch make a slot the most recent, erase drops it, victim takes
  // the least recent). Fixed seed; touches and pins outnumber victims so that the policy's
  // array of blanked entries is compacted many times.
  constexpr eviction::Slot kSlots = 300;
  eviction::CacheState state;
  auto lru = eviction::make_policy("lru", state, {});
  lru->resize(kSlots);
  std::list<eviction::Slot> reference;
  std::vector<std::list<eviction::Slot>::iterator> where(kSlots, reference.end());
  std::vector<char> candidate(kSlots, 0);
  std::mt19937_64 rng(11);
  std::uint64_t victims = 0;
  for (int op = 0; op < 200'000; ++op) {
    const auto s = eviction::Slot(rng() % kSlots);
    const auto kind = rng() % 10;
    if (!candidate[s]) {
      if (kind < 8) {  // becomes a candidate (a new block, or back from a pin)
        lru->insert(s);
        where[s] = reference.insert(reference.end(), s);
        candidate[s] = 1;
      }
    } else if (kind < 6) {
      lru->touch(s);
      reference.splice(reference.end(), reference, where[s]);
    } else if (kind < 8) {  // pinned
      lru->erase(s);
      reference.erase(where[s]);
      candidate[s] = 0;
    } else {
      const eviction::Slot expected = reference.front();
      REQUIRE(lru->victim() == expected);
      reference.pop_front();
      candidate[expected] = 0;
      ++victims;
    }
  }
  CHECK(victims > 10'000);
  // Draining gives the reference order.
  while (!reference.empty()) {
    REQUIRE(lru->victim() == reference.front());
    reference.pop_front();
  }
}

TEST_CASE("publish over a run of blocks gives each its position, skips an identity held elsewhere, and reports the run to the directory") {
  BlockManager bm(6);
  PrefixDirectory directory(2);
  bm.report_to(&directory, 1);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(5, t));  // fresh blocks 0..4
  bm.publish(t[0], 10, 0, 1);
  // Blocks 1..3 as positions 1..3 of a category-2 prompt; block 4 repeats identity 12,
  // already held by block 2 within the same run: it stays anonymous.
  const std::vector<BlockId> ids = {11, 12, 13, 12};
  bm.publish(std::span(t).subspan(1, 4), ids, 1, 2);
  CHECK(bm.cached_blocks() == 4);
  CHECK(directory.size() == 4);
  std::uint32_t scratch = 0;
  for (const BlockId id : {10, 11, 12, 13}) {
    const auto holders = directory.holders_of(id, scratch);
    REQUIRE(holders.size() == 1);
    CHECK(holders[0] == 1);
  }
  const std::vector<BlockId> prompt = {10, 11, 12, 13};
  CHECK(bm.match_prefix(prompt, 4) == 4);
  CHECK_THROWS_AS(bm.publish(std::span(t).subspan(0, 2), std::span(ids).first(1), 0, 0), std::logic_error);
  // Released tail first: block 4 (anonymous) is reused first, then blocks 3, 2, 1, 0 leave
  // in that order, each with the position and category it was published with.
  bm.release(t);
  bm.record_evictions(true);
  std::vector<BlockIndex> u;
  REQUIRE(bm.allocate(4, u));  // block 4, then the fresh block 5, then evicts blocks 3 and 2
  CHECK(u == std::vector<BlockIndex>{4, 5, 3, 2});
  std::vector<EvictedBlock> evicted;
  bm.take_evicted(evicted);
  REQUIRE(evicted.size() == 2);
  CHECK(evicted[0].id == 13);
  CHECK(evicted[0].position == 3);
  CHECK(evicted[0].category == 2);
  CHECK(evicted[1].id == 12);
  CHECK(evicted[1].position == 2);
  CHECK(evicted[1].category == 2);
  CHECK(directory.size() == 2);
  CHECK(bm.match_prefix(prompt, 4) == 2);
}
