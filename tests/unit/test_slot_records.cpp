// What the HBM pool and a lower-tier store record of their blocks
// (models/kvcache/slot_records.hpp): an evicted block is handed on with its identity, its
// position in its prefix and the category of its latest user, whether or not the policy
// keeps per-block metadata; and a policy that reads metadata (lfu: fewest uses first) sees
// every use, while lru (which reads none) gets none kept. Each case is traced by hand twice,
// under lfu and under lru, whose victims differ.
#include <doctest/doctest.h>

#include <vector>

#include "models/kvcache/block_manager.hpp"
#include "models/kvcache/slot_records.hpp"
#include "models/kvcache/tier_store.hpp"

using namespace kvsim::kvcache;
using kvsim::workload::BlockId;

namespace {

constexpr BlockId kA = 100, kB = 200, kC = 300;

EvictionChoice choice(const char* policy) {
  EvictionChoice c;
  c.policy = policy;
  return c;
}

void check_block(const EvictedBlock& got, BlockId id, std::uint32_t position, std::uint16_t category) {
  CHECK(got.id == id);
  CHECK(got.position == position);
  CHECK(got.category == category);
}

}  // namespace

TEST_CASE("slot records: identity, position and latest category, with the policy's metadata only when kept") {
  SlotRecords slim;
  slim.keep_metadata(false);
  slim.resize(2);
  slim.begin(1, kA, 7, 2, 10.0);
  slim.use(1, 5, 11.0);
  slim.used_until(1, 12.0);
  CHECK(slim.id(1) == kA);
  check_block(slim.evicted(1), kA, 7, 5);
  CHECK(slim.state().blocks.empty());  // nothing kept for a policy that reads nothing

  SlotRecords full;
  full.keep_metadata(true);
  full.resize(2);
  full.begin(1, kA, 7, 2, 10.0);
  full.use(1, 5, 11.0);
  full.used_until(1, 12.0);
  check_block(full.evicted(1), kA, 7, 5);
  REQUIRE(full.state().blocks.size() == 2);
  const auto& meta = full.state().blocks[1];
  CHECK(meta.id == kA);
  CHECK(meta.position == 7);
  CHECK(meta.accesses == 2);
  CHECK(meta.first_access == 10.0);
  CHECK(meta.previous_access == 10.0);
  CHECK(meta.last_access == 12.0);
  CHECK(meta.category == 5);
  CHECK(meta.previous_category == 2);
}

TEST_CASE("tier store: lfu sees the touches (the twice-touched block stays), lru evicts it as least recent") {
  for (const char* policy : {"lfu", "lru"}) {
    CAPTURE(policy);
    TierStore store("dram", 2, choice(policy));
    std::vector<EvictedBlock> evicted;
    store.insert({kA, 5, 1}, 0.0, evicted);
    CHECK(store.touch(kA, 1.0, 3));
    CHECK(store.touch(kA, 2.0, 3));
    store.insert({kB, 6, 2}, 3.0, evicted);
    CHECK(evicted.empty());
    store.insert({kC, 7, 0}, 4.0, evicted);
    REQUIRE(evicted.size() == 1);
    if (policy == std::string("lfu")) {
      // Keys: A = 0 + 3 uses, B = 0 + 1 use: B goes.
      check_block(evicted[0], kB, 6, 2);
      CHECK(store.contains(kA));
    } else {
      // A was last used at 2, B at 3: A goes, named with its latest toucher's category.
      check_block(evicted[0], kA, 5, 3);
      CHECK(store.contains(kB));
    }
    CHECK(store.contains(kC));
    CHECK(store.counters().evicted_blocks == 1);
  }
}

TEST_CASE("block manager: lfu sees a reuse through acquire_cached, lru evicts the block released first") {
  for (const char* policy : {"lfu", "lru"}) {
    CAPTURE(policy);
    BlockManager bm(2, choice(policy));
    bm.record_evictions(true);
    std::vector<BlockIndex> first, second, third;
    // A request of category 1 computes A (position 3 of its prompt) and finishes.
    REQUIRE(bm.allocate(1, first));
    bm.publish(first[0], kA, 3, 1);
    bm.release(first);
    // A request of category 4 reuses A and finishes: A has two uses, the latest by category 4.
    const std::vector<BlockId> prompt{kA};
    REQUIRE(bm.match_prefix(prompt, 1) == 1);
    bm.acquire_cached(prompt, 1, second, 4);
    bm.release(second);
    // A request of category 2 computes B (position 0) and finishes after A's release.
    REQUIRE(bm.allocate(1, third));
    bm.publish(third[0], kB, 0, 2);
    bm.release(third);
    // Two more blocks, kept referenced: both cached blocks go, one per allocation.
    std::vector<BlockIndex> held;
    std::vector<EvictedBlock> evicted;
    REQUIRE(bm.allocate(1, held));
    bm.take_evicted(evicted);
    REQUIRE(evicted.size() == 1);
    if (policy == std::string("lfu"))
      check_block(evicted[0], kB, 0, 2);  // keys: A = 2 uses, B = 1 use
    else
      check_block(evicted[0], kA, 3, 4);  // A released before B
    REQUIRE(bm.allocate(1, held));
    bm.take_evicted(evicted);
    REQUIRE(evicted.size() == 1);
    if (policy == std::string("lfu"))
      check_block(evicted[0], kA, 3, 4);
    else
      check_block(evicted[0], kB, 0, 2);
  }
}
