// What a block cache of the timed simulator (an HBM pool, a lower-tier store) records of
// each block slot, split by who reads it:
//   * the cache itself needs a block's identity (to drop it from its index on eviction),
//     its position in its prefix and the category of its latest user (to hand it down the
//     tiers as an EvictedBlock): a 16-byte Record, four to a cache line;
//   * the eviction policy may need the full eviction::BlockMeta (times, access counts,
//     56 bytes, most of them straddling two lines). Policies that read none of it (lru,
//     fifo: Policy::reads_block_metadata) get none: the metadata is not kept at all.
// In a cluster run every one of these tables is far larger than the CPU caches and a
// block's slot is random, so each line touched per block is a cache miss: an eviction
// reads one Record line instead of two metadata lines, and a use writes one line instead
// of two (or none beyond the Record). The timing-free replay (cache_replay.cpp) splits its
// identities from the metadata for the same reason.
#pragma once

#include <cstdint>
#include <vector>

#include "models/kvcache/eviction/policy.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

// A cached block dropped by a cache, with what a lower tier's policy needs to know about it.
struct EvictedBlock {
  workload::BlockId id = 0;
  std::uint32_t position = 0;  // index in its prefix
  std::uint16_t category = 0;  // category of the request that last used it
};

class SlotRecords {
 public:
  using Slot = eviction::Slot;

  // metadata: whether to keep the policy's BlockMeta (policy->reads_block_metadata()).
  // The policy reads state(), which holds it (and the clock) either way.
  void keep_metadata(bool metadata) { metadata_ = metadata; }
  eviction::CacheState& state() { return state_; }
  const eviction::CacheState& state() const { return state_; }

  std::size_t size() const { return records_.size(); }
  void resize(std::size_t slots) {
    records_.resize(slots);
    if (metadata_) state_.blocks.resize(slots);
  }
  void reserve(std::size_t slots) {
    records_.reserve(slots);
    if (metadata_) state_.blocks.reserve(slots);
  }

  // s now holds block id at position of a prefix, first used by a request of category at now.
  void begin(Slot s, workload::BlockId id, std::uint32_t position, std::uint16_t category, double now) {
    records_[s] = {id, position, category};
    if (metadata_) state_.blocks[s].begin(id, position, category, now);
  }
  // A later use of s by a request of category at now.
  void use(Slot s, std::uint16_t category, double now) {
    records_[s].category = category;
    if (metadata_) state_.blocks[s].use(category, now);
  }
  // s stops being used at now (an HBM block released by its last request): its latest access.
  void used_until(Slot s, double now) {
    if (metadata_) state_.blocks[s].last_access = now;
  }

  workload::BlockId id(Slot s) const { return records_[s].id; }
  EvictedBlock evicted(Slot s) const {
    const Record& r = records_[s];
    return {r.id, r.position, r.category};
  }
  // Fetches what used_until(s) writes, for a release a few blocks ahead.
  void prefetch_used_until(Slot s) const {
    if (metadata_) __builtin_prefetch(&state_.blocks[s].last_access, 1);
  }
  // Fetches what evicting s reads (its Record), for an eviction a few blocks ahead.
  void prefetch(Slot s) const {
    if (s != eviction::kNoSlot) __builtin_prefetch(&records_[s]);
  }

 private:
  struct Record {
    workload::BlockId id = 0;
    std::uint32_t position = 0;
    std::uint16_t category = 0;
  };
  static_assert(sizeof(Record) == 16);

  std::vector<Record> records_;  // [slot]
  eviction::CacheState state_;   // the policy's view: blocks filled only when metadata_
  bool metadata_ = true;
};

}  // namespace kvsim::kvcache
