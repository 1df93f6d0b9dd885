// Known-answer tests of the paged KV pool with prefix caching (models/kvcache/block_manager.cpp).
// The eviction order is the point of the class: anonymous free blocks first, then cached
// blocks from least to most recently released, each table tail first, and never a block
// that a running request references. Each test builds a tiny pool, drives it through a
// hand-traced sequence and checks which identities survive, in which order they go.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "models/kvcache/block_manager.hpp"

using kvsim::kvcache::BlockIndex;
using kvsim::kvcache::BlockManager;
using kvsim::workload::BlockId;

namespace {

// Identities are arbitrary 64-bit values; small distinct ones keep the traces readable.
constexpr BlockId kA0 = 100, kA1 = 101, kA2 = 102, kA3 = 103;
constexpr BlockId kB0 = 200, kB1 = 201;

bool all_distinct(const std::vector<BlockIndex>& table) {
  return std::set<BlockIndex>(table.begin(), table.end()).size() == table.size();
}

// Allocates one fresh block at a time (released straight away so the next allocation pops
// the queue again) and returns, for each allocation, which of ids stopped being cached:
// this reads the eviction order off the queue without looking at its internals.
std::vector<BlockId> eviction_order(BlockManager& bm, const std::vector<BlockId>& ids, std::size_t allocations) {
  std::vector<BlockId> order;
  std::vector<BlockIndex> keep;  // stays referenced so the same block is not popped twice
  for (std::size_t i = 0; i < allocations; ++i) {
    std::vector<BlockId> before;
    for (BlockId id : ids)
      if (bm.is_cached(id)) before.push_back(id);
    REQUIRE(bm.allocate(1, keep));
    std::size_t gone = 0;
    for (BlockId id : before)
      if (!bm.is_cached(id)) {
        order.push_back(id);
        ++gone;
      }
    CHECK(gone <= 1);  // one fresh block evicts at most one identity
  }
  return order;
}

}  // namespace

TEST_CASE("block manager: allocation from an empty pool and free_blocks accounting") {
  BlockManager bm(4);
  CHECK(bm.capacity() == 4);
  CHECK(bm.free_blocks() == 4);
  CHECK(bm.cached_blocks() == 0);

  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(3, t));
  CHECK(t.size() == 3);
  CHECK(all_distinct(t));
  for (BlockIndex b : t) {
    CHECK(b < 4);
    CHECK(bm.references(b) == 1);
  }
  CHECK(bm.free_blocks() == 1);
  CHECK(bm.counters().allocated == 3);
  CHECK(bm.counters().evicted == 0);

  // 2 > 1 free: refused, and nothing changes (the table keeps its 3 entries).
  CHECK_FALSE(bm.allocate(2, t));
  CHECK(t.size() == 3);
  CHECK(bm.free_blocks() == 1);
  CHECK(bm.counters().allocated == 3);

  // The last block, then the pool is exhausted.
  std::vector<BlockIndex> u;
  REQUIRE(bm.allocate(1, u));
  CHECK(bm.free_blocks() == 0);
  CHECK(std::find(t.begin(), t.end(), u[0]) == t.end());
  CHECK_FALSE(bm.allocate(1, u));
  CHECK(u.size() == 1);

  // Releasing returns every block; nothing was published, so nothing is cached.
  bm.release(t);
  bm.release(u);
  CHECK(bm.free_blocks() == 4);
  CHECK(bm.cached_blocks() == 0);
  for (BlockIndex b = 0; b < 4; ++b) CHECK(bm.references(b) == 0);
}

TEST_CASE("block manager: match_prefix finds leading resident blocks only") {
  BlockManager bm(8);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(4, t));
  // Publish blocks 0, 1 and 3 of the table; block 2 stays anonymous (a hole).
  bm.publish(t[0], kA0);
  bm.publish(t[1], kA1);
  bm.publish(t[3], kA3);
  CHECK(bm.cached_blocks() == 3);
  CHECK(bm.is_cached(kA0));
  CHECK_FALSE(bm.is_cached(kA2));

  const std::vector<BlockId> prefix{kA0, kA1, kA2, kA3};
  std::uint32_t unreferenced = 99;
  // A0, A1 hit, A2 misses: the match stops there although A3 is resident.
  CHECK(bm.match_prefix(prefix, 10, &unreferenced) == 2);
  CHECK(unreferenced == 0);  // both hits are referenced by t
  CHECK(bm.match_prefix(prefix, 1) == 1);
  CHECK(bm.match_prefix(prefix, 0) == 0);
  // A miss at the head means no match at all, even with later hits.
  CHECK(bm.match_prefix(std::vector<BlockId>{kA2, kA0, kA1}, 10) == 0);
  CHECK(bm.match_prefix(std::vector<BlockId>{kA3}, 10) == 1);
  CHECK(bm.match_prefix(std::vector<BlockId>{}, 10) == 0);

  // After release the cached blocks are still found, now as unreferenced hits.
  bm.release(t);
  CHECK(bm.match_prefix(prefix, 10, &unreferenced) == 2);
  CHECK(unreferenced == 2);
  CHECK(bm.match_prefix(prefix, 1, &unreferenced) == 1);
  CHECK(unreferenced == 1);
}

TEST_CASE("block manager: acquire_cached pins blocks and takes free ones off the free queue") {
  BlockManager bm(8);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(3, t));
  bm.publish(t[0], kA0);
  bm.publish(t[1], kA1);
  bm.publish(t[2], kA2);
  bm.release(t);
  CHECK(bm.free_blocks() == 8);

  const std::vector<BlockId> prefix{kA0, kA1, kA2};
  std::vector<BlockIndex> first;
  bm.acquire_cached(prefix, 2, first);
  // The very blocks that hold A0 and A1, in prefix order, each with one reference.
  REQUIRE(first.size() == 2);
  CHECK(first[0] == t[0]);
  CHECK(first[1] == t[1]);
  CHECK(bm.references(t[0]) == 1);
  CHECK(bm.references(t[1]) == 1);
  CHECK(bm.references(t[2]) == 0);
  CHECK(bm.free_blocks() == 6);  // 8 - 2 formerly free hits
  CHECK(bm.counters().hit_blocks == 2);

  // A second request sharing the prefix: references grow, the free count does not move.
  std::uint32_t unreferenced = 99;
  CHECK(bm.match_prefix(prefix, 3, &unreferenced) == 3);
  CHECK(unreferenced == 1);  // only A2 is still free
  std::vector<BlockIndex> second;
  bm.acquire_cached(prefix, 3, second);
  CHECK(bm.references(t[0]) == 2);
  CHECK(bm.references(t[1]) == 2);
  CHECK(bm.references(t[2]) == 1);
  CHECK(bm.free_blocks() == 5);  // A2 left the queue
  CHECK(bm.counters().hit_blocks == 5);
  CHECK(bm.counters().allocated == 3);  // hits are not allocations

  // The 5 free blocks are the never-used ones; taking all of them evicts nothing, and the
  // pinned blocks are not handed out again.
  std::vector<BlockIndex> fresh;
  REQUIRE(bm.allocate(5, fresh));
  CHECK(bm.counters().evicted == 0);
  for (BlockIndex b : fresh) CHECK(std::find(t.begin(), t.end(), b) == t.end());
  CHECK_FALSE(bm.allocate(1, fresh));

  // One table released: shared blocks keep the other reference and stay pinned.
  bm.release(first);
  CHECK(bm.references(t[0]) == 1);
  CHECK(bm.references(t[1]) == 1);
  CHECK(bm.free_blocks() == 0);
}

TEST_CASE("block manager: a table is released tail first, so its tail is evicted before its head") {
  BlockManager bm(4);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(4, t));
  const std::vector<BlockId> ids{kA0, kA1, kA2, kA3};
  for (std::size_t i = 0; i < 4; ++i) bm.publish(t[i], ids[i]);
  bm.release(t);
  CHECK(bm.free_blocks() == 4);
  CHECK(bm.cached_blocks() == 4);
  // Release pushed A3, A2, A1, A0 onto the back of the queue in that order.
  CHECK(eviction_order(bm, ids, 4) == std::vector<BlockId>{kA3, kA2, kA1, kA0});
  CHECK(bm.counters().evicted == 4);
  CHECK(bm.cached_blocks() == 0);
}

TEST_CASE("block manager: anonymous free blocks are reused before any cached block") {
  BlockManager bm(6);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(6, t));
  // A prompt of three full blocks followed by three blocks that never got an identity
  // (a partial last prompt block and decode blocks).
  bm.publish(t[0], kA0);
  bm.publish(t[1], kA1);
  bm.publish(t[2], kA2);
  bm.release(t);

  // The three anonymous blocks come out first: no identity is lost.
  std::vector<BlockIndex> fresh;
  REQUIRE(bm.allocate(3, fresh));
  CHECK(bm.counters().evicted == 0);
  CHECK(bm.cached_blocks() == 3);
  for (BlockIndex b : fresh) CHECK((b == t[3] || b == t[4] || b == t[5]));
  // Then the cached ones, tail first.
  CHECK(eviction_order(bm, {kA0, kA1, kA2}, 3) == std::vector<BlockId>{kA2, kA1, kA0});

  // Blocks never used since construction count as anonymous too: a released cached block
  // goes behind them.
  BlockManager fresh_pool(4);
  std::vector<BlockIndex> a;
  REQUIRE(fresh_pool.allocate(1, a));
  fresh_pool.publish(a[0], kB0);
  fresh_pool.release(a);
  std::vector<BlockIndex> rest;
  REQUIRE(fresh_pool.allocate(3, rest));
  CHECK(fresh_pool.is_cached(kB0));
  CHECK(fresh_pool.counters().evicted == 0);
  REQUIRE(fresh_pool.allocate(1, rest));
  CHECK_FALSE(fresh_pool.is_cached(kB0));
  CHECK(fresh_pool.counters().evicted == 1);
}

TEST_CASE("block manager: hand-out order is lowest untouched block first, after any released anonymous block") {
  // The order of a stack holding every block with block 0 on top, released blocks pushed
  // on it; the per-block arrays grow by doubling from 64, so a pool of 200 crosses two
  // growths (64 -> 128 -> 200) in between.
  BlockManager bm(200);
  CHECK(bm.free_blocks() == 200);
  CHECK(bm.empty_blocks() == 200);
  CHECK(bm.occupied() == 0);
  CHECK(bm.references(150) == 0);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(3, t));
  CHECK(t == std::vector<BlockIndex>{0, 1, 2});
  bm.release(std::vector<BlockIndex>{1});  // anonymous: reused first
  std::vector<BlockIndex> u;
  REQUIRE(bm.allocate(3, u));
  CHECK(u == std::vector<BlockIndex>{1, 3, 4});
  CHECK(bm.occupied() == 5);
  std::vector<BlockIndex> big;
  REQUIRE(bm.allocate(195, big));  // every block now, across the growths
  CHECK(big.front() == 5);
  CHECK(big.back() == 199);
  CHECK(all_distinct(big));
  CHECK(bm.free_blocks() == 0);
  CHECK_FALSE(bm.allocate(1, big));
  // Released tail first (release goes from the back): the stack top is big's head.
  bm.release(big);
  std::vector<BlockIndex> again;
  REQUIRE(bm.allocate(2, again));
  CHECK(again == std::vector<BlockIndex>{5, 6});
  CHECK(bm.counters().allocated == 203);
}

TEST_CASE("block manager: LRU across tables, and a re-used prefix moves to the back") {
  const std::vector<BlockId> ids{kA0, kA1, kB0, kB1};
  SUBCASE("the table released earlier is evicted first") {
    BlockManager bm(4);
    std::vector<BlockIndex> ta, tb;
    REQUIRE(bm.allocate(2, ta));
    REQUIRE(bm.allocate(2, tb));
    bm.publish(ta[0], kA0);
    bm.publish(ta[1], kA1);
    bm.publish(tb[0], kB0);
    bm.publish(tb[1], kB1);
    bm.release(ta);
    bm.release(tb);
    CHECK(eviction_order(bm, ids, 4) == std::vector<BlockId>{kA1, kA0, kB1, kB0});
  }
  SUBCASE("acquiring A again after both releases makes B the least recently used") {
    BlockManager bm(4);
    std::vector<BlockIndex> ta, tb;
    REQUIRE(bm.allocate(2, ta));
    REQUIRE(bm.allocate(2, tb));
    bm.publish(ta[0], kA0);
    bm.publish(ta[1], kA1);
    bm.publish(tb[0], kB0);
    bm.publish(tb[1], kB1);
    bm.release(ta);
    bm.release(tb);
    std::vector<BlockIndex> again;
    REQUIRE(bm.match_prefix(std::vector<BlockId>{kA0, kA1}, 2) == 2);
    bm.acquire_cached(std::vector<BlockId>{kA0, kA1}, 2, again);
    bm.release(again);
    CHECK(eviction_order(bm, ids, 4) == std::vector<BlockId>{kB1, kB0, kA1, kA0});
  }
}

TEST_CASE("block manager: a referenced block is never evicted, allocate fails instead") {
  BlockManager bm(4);
  std::vector<BlockIndex> ta, tb;
  REQUIRE(bm.allocate(2, ta));
  REQUIRE(bm.allocate(2, tb));
  bm.publish(ta[0], kA0);
  bm.publish(ta[1], kA1);
  bm.publish(tb[0], kB0);
  bm.publish(tb[1], kB1);
  bm.release(tb);  // A stays pinned by a running request
  CHECK(bm.free_blocks() == 2);

  // Three blocks would need one of A's: refused, and nothing changes.
  std::vector<BlockIndex> table{ta[0]};  // a caller's table with content already in it
  CHECK_FALSE(bm.allocate(3, table));
  CHECK(table.size() == 1);
  CHECK(bm.free_blocks() == 2);
  CHECK(bm.cached_blocks() == 4);
  CHECK(bm.counters().evicted == 0);
  CHECK(bm.counters().allocated == 4);

  // Two blocks fit: B's are evicted, A's untouched.
  REQUIRE(bm.allocate(2, table));
  CHECK(table.size() == 3);
  CHECK_FALSE(bm.is_cached(kB0));
  CHECK_FALSE(bm.is_cached(kB1));
  CHECK(bm.is_cached(kA0));
  CHECK(bm.is_cached(kA1));
  CHECK(bm.references(ta[0]) == 1);
  CHECK(bm.references(ta[1]) == 1);
  CHECK(bm.counters().evicted == 2);
  CHECK_FALSE(bm.allocate(1, table));
  CHECK(bm.is_cached(kA0));
  CHECK(bm.is_cached(kA1));

  // A block shared by two tables stays pinned until both let go.
  BlockManager shared(2);
  std::vector<BlockIndex> s1, s2, other;
  REQUIRE(shared.allocate(1, s1));
  shared.publish(s1[0], kA0);
  shared.acquire_cached(std::vector<BlockId>{kA0}, 1, s2);
  CHECK(shared.references(s1[0]) == 2);
  shared.release(s1);
  CHECK(shared.free_blocks() == 1);
  REQUIRE(shared.allocate(1, other));  // the never-used block
  CHECK_FALSE(shared.allocate(1, other));
  CHECK(shared.is_cached(kA0));
  CHECK(shared.counters().evicted == 0);
}

TEST_CASE("block manager: duplicate publish keeps the first block, re-publish keeps the first id") {
  BlockManager bm(4);
  std::vector<BlockIndex> t;
  REQUIRE(bm.allocate(2, t));
  // Two requests computed the same prefix block concurrently.
  bm.publish(t[0], kA0);
  bm.publish(t[1], kA0);
  CHECK(bm.cached_blocks() == 1);
  // A block that already has an identity ignores a second one.
  bm.publish(t[0], kA1);
  CHECK_FALSE(bm.is_cached(kA1));
  CHECK(bm.cached_blocks() == 1);

  std::vector<BlockIndex> hit;
  bm.acquire_cached(std::vector<BlockId>{kA0}, 1, hit);
  CHECK(hit == std::vector<BlockIndex>{t[0]});
  CHECK(bm.references(t[0]) == 2);
  CHECK(bm.references(t[1]) == 1);

  // t[1] stayed anonymous: once released it is reused first, without evicting A0.
  bm.release(hit);
  bm.release(t);
  std::vector<BlockIndex> fresh;
  REQUIRE(bm.allocate(1, fresh));
  CHECK(fresh[0] == t[1]);
  CHECK(bm.is_cached(kA0));
  CHECK(bm.counters().evicted == 0);
  CHECK(bm.counters().hit_blocks == 1);
}
