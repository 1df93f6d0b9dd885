// Paged KV blocks of one instance's HBM with prefix caching (vLLM-style).
//
// The pool has a fixed number of blocks. A block is either referenced by running
// requests (pinned: never evicted) or free. Free blocks that hold a full prefix block keep
// their identity in the prefix index and stay reusable until they are evicted, which
// happens lazily when a fresh block is needed:
//   * free blocks without an identity (partial blocks, never-filled blocks) are reused
//     first: reusing them loses nothing (vLLM queues them behind cached blocks; we do
//     better for free);
//   * then a cached free block chosen by the eviction policy (models/kvcache/eviction/,
//     the same objects `kvsim cache` replays), whose candidates are exactly the cached,
//     unreferenced blocks. A request's blocks are released tail first, so under LRU the
//     tail of a prefix is evicted before its head (the head is shared by more requests).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/flat_index.hpp"
#include "models/kvcache/slot_records.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

class PrefixDirectory;

using BlockIndex = std::uint32_t;
using workload::BlockId;

struct BlockCounters {
  std::uint64_t allocated = 0;    // fresh blocks handed out
  std::uint64_t evicted = 0;      // cached identities dropped to make room
  std::uint64_t hit_blocks = 0;   // prefix blocks reused through acquire_cached
};

struct EvictionChoice {
  std::string policy = "lru";
  eviction::PolicyParams params;
  std::vector<std::string> category_names;  // for policies keyed by category (wa)
};

class BlockManager {
 public:
  explicit BlockManager(std::uint32_t num_blocks, const EvictionChoice& eviction = {});

  std::uint32_t capacity() const { return capacity_; }
  // Blocks that can be handed out now (free, cached or not).
  std::uint32_t free_blocks() const { return empty_blocks() + cached_free_; }
  // Free blocks that can be handed out without evicting a cached identity.
  std::uint32_t empty_blocks() const { return std::uint32_t(anonymous_.size()) + (capacity_ - fresh_); }
  // Whether evictions are observed (recorded for take_evicted).
  bool records_evictions() const { return record_evictions_; }
  // The clock used for block metadata (last access times) from now on.
  void set_time(double now) { records_.state().now = now; }

  // Leading blocks of ids that are resident, at most max_blocks. unreferenced receives how
  // many of them are currently free (acquiring them lowers free_blocks()).
  std::uint32_t match_prefix(std::span<const BlockId> ids, std::uint32_t max_blocks,
                             std::uint32_t* unreferenced = nullptr) const;
  // References the first n blocks of ids, which match_prefix reported resident, for a
  // request of category; appends their indices to table.
  void acquire_cached(std::span<const BlockId> ids, std::uint32_t n, std::vector<BlockIndex>& table,
                      std::uint16_t category = 0);
  // Appends n fresh blocks to table, evicting cached identities as needed. Returns false
  // (and changes nothing) when fewer than n blocks are free.
  bool allocate(std::uint32_t n, std::vector<BlockIndex>& table);
  // Evicts the next n cached free blocks in the policy's order now (n <= free_blocks() -
  // empty_blocks()), leaving them empty: allocate hands them out before any other block.
  // A multi-step plan evicts this way at the start of each step that needs the blocks (the
  // time a one-step-at-a-time scheduler would allocate them), ahead of its allocations.
  void evict_cached(std::uint32_t n);
  // Makes blocks whose tokens are now all computed discoverable under ids (as many), as
  // blocks first, first + 1, ... of a prompt of category. If another block already holds an
  // identity (two requests computed the same prefix concurrently) that block stays
  // anonymous. One call per run of blocks, so that the index probes are issued ahead.
  void publish(std::span<const BlockIndex> blocks, std::span<const BlockId> ids, std::uint32_t first = 0,
               std::uint16_t category = 0);
  // One block: publish of a run of one.
  void publish(BlockIndex block, BlockId id, std::uint32_t position = 0, std::uint16_t category = 0) {
    publish(std::span(&block, 1), std::span(&id, 1), position, category);
  }
  // Drops one reference of each block of table, releasing from the back (tail first).
  void release(std::span<const BlockIndex> table);

  bool is_cached(BlockId id) const { return index_.find(id) != nullptr; }
  std::uint32_t references(BlockIndex block) const { return block < fresh_ ? blocks_[block].refs : 0; }
  std::size_t cached_blocks() const { return index_.size(); }
  // Blocks holding KV: referenced by running requests or cached for reuse.
  std::uint32_t occupied() const { return capacity() - empty_blocks(); }
  const BlockCounters& counters() const { return counters_; }
  // Blocks evicted since the last call, in eviction order (for demotion to lower tiers),
  // into out (its old contents are dropped). The two vectors swap, so neither gives its
  // capacity away and the engine's steps allocate nothing for this once warm.
  void take_evicted(std::vector<EvictedBlock>& out) {
    out.swap(evicted_);
    evicted_.clear();
  }
  // Whether evicted blocks are recorded for take_evicted (off: nobody listens).
  void record_evictions(bool on) { record_evictions_ = on; }
  // From now on reports every identity made discoverable or dropped to directory as
  // holder's (those cached now are reported at once); nullptr stops reporting.
  void report_to(PrefixDirectory* directory, std::uint32_t holder);

 private:
  struct Block {
    bool has_id = false;
    std::uint32_t refs = 0;
  };
  void drop_identity(BlockIndex b);
  // The policy's next victim, its identity dropped (the next victims' lines fetched ahead).
  BlockIndex evict_next();
  // Fetches the lines of id in the prefix index and the directory (publish and eviction
  // probe both).
  void prefetch_identity(BlockId id) const;
  // A block never handed out before (the lowest such index), the per-block arrays grown to
  // hold it.
  BlockIndex fresh_block();

  // The per-block arrays (blocks_, records_, the policy's) cover only the blocks
  // handed out so far and grow geometrically: an instance that never fills its pool does
  // not pay for it (at 1,024 instances the full arrays were 2.4 GB, and their
  // construction 2.5 % of a 2-minute cluster run).
  std::uint32_t capacity_ = 0;
  BlockIndex fresh_ = 0;  // blocks [fresh_, capacity_) were never handed out
  std::vector<Block> blocks_;
  SlotRecords records_;  // per block: identity, position, category (+ the policy's metadata)
  std::unique_ptr<eviction::Policy> policy_;
  FlatIndex<BlockIndex> index_;  // cached identity -> its block
  // Free blocks without identity that were used before, reused last-in first-out and
  // before any fresh block (as if the fresh ones lay under them on the stack, lowest on top).
  std::vector<BlockIndex> anonymous_;
  std::uint32_t cached_free_ = 0;      // free blocks with an identity (the policy's candidates)
  BlockCounters counters_;
  std::vector<EvictedBlock> evicted_;
  bool record_evictions_ = false;
  PrefixDirectory* directory_ = nullptr;  // the cluster-wide index of cached blocks, if any
  std::uint32_t holder_ = 0;              // this pool's holder number in directory_
};

}  // namespace kvsim::kvcache
