// The cluster-wide index of cached HBM blocks (models/kvcache/prefix_directory.cpp): a
// hand-traced case, then a random workload on several block managers reporting to one
// directory, where every match must equal what each manager's own match_prefix says (the
// answer the routers got by asking each instance before the directory existed).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "models/kvcache/block_manager.hpp"
#include "models/kvcache/prefix_directory.hpp"

using kvsim::kvcache::BlockIndex;
using kvsim::kvcache::BlockManager;
using kvsim::kvcache::PrefixDirectory;
using kvsim::workload::BlockId;

namespace {

std::vector<std::uint32_t> match(const PrefixDirectory& d, const std::vector<BlockId>& ids, std::uint32_t max_blocks) {
  std::vector<std::uint32_t> depth{99, 99};  // stale content must not leak into the answer
  d.match(ids, max_blocks, depth);
  return depth;
}

// match_holders as a dense vector (sorted by holder; 0 where absent), and whether every
// listed holder had a depth of at least 1 and appeared once.
std::vector<std::uint32_t> sparse_match(const PrefixDirectory& d, const std::vector<BlockId>& ids, std::uint32_t max_blocks,
                                        bool& well_formed) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> held{{7, 7}};  // stale content must go
  d.match_holders(ids, max_blocks, held);
  std::vector<std::uint32_t> depth(d.holders(), 0);
  well_formed = true;
  for (const auto& [holder, blocks] : held) {
    well_formed = well_formed && holder < d.holders() && blocks >= 1 && depth[holder] == 0;
    if (holder < d.holders()) depth[holder] = blocks;
  }
  return depth;
}

std::vector<std::uint32_t> holders(const PrefixDirectory& d, BlockId id) {
  std::uint32_t scratch = 0;
  const auto span = d.holders_of(id, scratch);
  std::vector<std::uint32_t> out(span.begin(), span.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("prefix directory: leading blocks per holder, by hand") {
  PrefixDirectory d(3);
  // Holder 0 has A B C, holder 1 has A B, holder 2 has B C only (its A was evicted).
  d.add(10, 0);
  d.add(11, 0);
  d.add(12, 0);
  d.add(10, 1);
  d.add(11, 1);
  d.add(11, 2);
  d.add(12, 2);
  CHECK(d.size() == 3);
  CHECK(holders(d, 11) == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(match(d, {10, 11, 12, 13}, 10) == std::vector<std::uint32_t>{3, 2, 0});
  CHECK(match(d, {10, 11, 12}, 2) == std::vector<std::uint32_t>{2, 2, 0});
  CHECK(match(d, {10, 11, 12}, 0) == std::vector<std::uint32_t>{0, 0, 0});
  CHECK(match(d, {11, 12}, 10) == std::vector<std::uint32_t>{2, 1, 2});
  CHECK(match(d, {}, 10) == std::vector<std::uint32_t>{0, 0, 0});
  // The sparse answer lists only holders with a prefix, with the same depths.
  bool well_formed = false;
  CHECK(sparse_match(d, {10, 11, 12, 13}, 10, well_formed) == std::vector<std::uint32_t>{3, 2, 0});
  CHECK(well_formed);
  CHECK(sparse_match(d, {11, 12}, 10, well_formed) == std::vector<std::uint32_t>{2, 1, 2});
  CHECK(well_formed);
  CHECK(sparse_match(d, {10, 11, 12}, 1, well_formed) == std::vector<std::uint32_t>{1, 1, 0});
  CHECK(sparse_match(d, {13, 10}, 10, well_formed) == std::vector<std::uint32_t>{0, 0, 0});
  CHECK(sparse_match(d, {10, 11}, 0, well_formed) == std::vector<std::uint32_t>{0, 0, 0});

  // B leaves holder 0: holder 0 now matches only A; the shared list shrinks.
  d.remove(11, 0);
  CHECK(holders(d, 11) == std::vector<std::uint32_t>{1, 2});
  CHECK(match(d, {10, 11, 12}, 10) == std::vector<std::uint32_t>{1, 2, 0});
  // Down to one holder, then none: the identity disappears.
  d.remove(11, 1);
  CHECK(holders(d, 11) == std::vector<std::uint32_t>{2});
  d.remove(11, 2);
  CHECK(holders(d, 11).empty());
  CHECK(d.size() == 2);
  // A recycled list serves the next shared identity correctly.
  d.add(12, 1);
  CHECK(holders(d, 12) == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(match(d, {10}, 10) == std::vector<std::uint32_t>{1, 1, 0});
  CHECK_THROWS_AS(d.remove(99, 0), std::logic_error);
  CHECK_THROWS_AS(d.remove(10, 2), std::logic_error);
}

TEST_CASE("prefix directory: equals every block manager's match_prefix on a random workload") {
  constexpr std::uint32_t kInstances = 6;
  constexpr std::uint32_t kPoolBlocks = 48;  // small pools: evictions all the time
  std::mt19937_64 rng(20261201);
  std::vector<std::unique_ptr<BlockManager>> pools;
  for (std::uint32_t i = 0; i < kInstances; ++i) pools.push_back(std::make_unique<BlockManager>(kPoolBlocks));
  PrefixDirectory directory(kInstances);

  // Prompts are paths in a tree of identities: a few shared system prompts, then branches,
  // so that prefixes are shared at every depth, like chained block hashes.
  const auto prompt = [&rng] {
    std::vector<BlockId> ids;
    BlockId id = 1 + rng() % 4;
    const std::size_t length = 1 + rng() % 12;
    for (std::size_t b = 0; b < length; ++b) {
      ids.push_back(id);
      id = id * 1000003 + 1 + rng() % (b < 3 ? 2 : 5);
    }
    return ids;
  };
  struct Running {
    std::uint32_t instance;
    std::vector<BlockIndex> table;
  };
  std::deque<Running> running;
  std::uint64_t compared = 0, nonzero = 0;
  for (int step = 0; step < 4000; ++step) {
    // The directory is attached mid-run: what the pools hold by then is reported at once.
    if (step == 300)
      for (std::uint32_t i = 0; i < kInstances; ++i) pools[i]->report_to(&directory, i);
    // A request arrives on a random instance: reuse its cached prefix, compute the rest.
    const auto ids = prompt();
    const std::uint32_t i = std::uint32_t(rng() % kInstances);
    BlockManager& pool = *pools[i];
    const std::uint32_t hit = pool.match_prefix(ids, std::uint32_t(ids.size()));
    Running r{i, {}};
    std::uint32_t unreferenced = 0;
    pool.match_prefix(ids, hit, &unreferenced);
    if (std::uint64_t(ids.size() - hit) + unreferenced <= pool.free_blocks()) {
      pool.acquire_cached(ids, hit, r.table);
      REQUIRE(pool.allocate(std::uint32_t(ids.size() - hit), r.table));
      for (std::uint32_t b = hit; b < ids.size(); ++b) pool.publish(r.table[b], ids[b], b);
      running.push_back(std::move(r));
    }
    // Requests finish in random order.
    while (running.size() > 5 || (!running.empty() && rng() % 3 == 0)) {
      const std::size_t k = rng() % running.size();
      pools[running[k].instance]->release(running[k].table);
      running.erase(running.begin() + std::ptrdiff_t(k));
    }
    if (step < 300) continue;
    // Compare on fresh prompts and on this request's own prompt.
    std::vector<std::uint32_t> depth;
    for (int q = 0; q < 3; ++q) {
      const auto query = q == 0 ? ids : prompt();
      const std::uint32_t limit = std::uint32_t(rng() % (query.size() + 2));
      directory.match(query, limit, depth);
      REQUIRE(depth.size() == kInstances);
      bool well_formed = false;
      CHECK(sparse_match(directory, query, limit, well_formed) == depth);
      CHECK(well_formed);
      for (std::uint32_t h = 0; h < kInstances; ++h) {
        CHECK(depth[h] == pools[h]->match_prefix(query, limit));
        ++compared;
        nonzero += depth[h] > 0;
      }
    }
  }
  std::size_t cached = 0;
  for (const auto& p : pools) cached += p->cached_blocks();
  CHECK(directory.size() <= cached);
  // The workload exercised the interesting cases: many hits, and many evictions.
  CHECK(nonzero > compared / 4);
  std::uint64_t evicted = 0;
  for (const auto& p : pools) evicted += p->counters().evicted;
  CHECK(evicted > 1000);
  // Detaching stops the reports: a detached pool's new blocks are not in the directory.
  pools[0]->report_to(nullptr, 0);
  std::vector<BlockIndex> table;
  REQUIRE(pools[0]->allocate(1, table));
  pools[0]->publish(table[0], 77);
  std::uint32_t scratch = 0;
  CHECK(directory.holders_of(77, scratch).empty());
}
