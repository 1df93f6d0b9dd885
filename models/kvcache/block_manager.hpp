// Paged KV blocks of one instance's HBM with prefix caching (vLLM-style).
//
// The pool has a fixed number of blocks. A block is either referenced by running
// requests (pinned: never evicted) or free. Free blocks that hold a full prefix block keep
// their identity in the prefix index and stay reusable until they are evicted, which
// happens lazily when a fresh block is needed. Free blocks form one queue ordered by
// eviction priority:
//   * blocks without an identity (partial blocks, never-filled blocks) come first: reusing
//     them loses nothing (vLLM appends them behind cached blocks; we do better for free);
//   * then cached blocks from least to most recently released (LRU), and a request's
//     blocks are released tail first, so the tail of a prefix is evicted before its head
//     (the head is shared by more requests).
// All operations are O(1) per block; the queue is an intrusive doubly linked list.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "workloads/request.hpp"

namespace kvsim::kvcache {

using BlockIndex = std::uint32_t;
using workload::BlockId;

struct BlockCounters {
  std::uint64_t allocated = 0;    // fresh blocks handed out
  std::uint64_t evicted = 0;      // cached identities dropped to make room
  std::uint64_t hit_blocks = 0;   // prefix blocks reused through acquire_cached
};

class BlockManager {
 public:
  explicit BlockManager(std::uint32_t num_blocks);

  std::uint32_t capacity() const { return static_cast<std::uint32_t>(blocks_.size()); }
  // Blocks that can be handed out now (free, cached or not).
  std::uint32_t free_blocks() const { return free_count_; }

  // Leading blocks of ids that are resident, at most max_blocks. unreferenced receives how
  // many of them are currently free (acquiring them lowers free_blocks()).
  std::uint32_t match_prefix(std::span<const BlockId> ids, std::uint32_t max_blocks,
                             std::uint32_t* unreferenced = nullptr) const;
  // References the first n blocks of ids, which match_prefix reported resident; appends
  // their indices to table.
  void acquire_cached(std::span<const BlockId> ids, std::uint32_t n, std::vector<BlockIndex>& table);
  // Appends n fresh blocks to table, evicting cached identities as needed. Returns false
  // (and changes nothing) when fewer than n blocks are free.
  bool allocate(std::uint32_t n, std::vector<BlockIndex>& table);
  // Makes a block whose tokens are now all computed discoverable under id. If another
  // block already holds id (two requests computed the same prefix concurrently) the block
  // stays anonymous.
  void publish(BlockIndex block, BlockId id);
  // Drops one reference of each block of table, releasing from the back (tail first).
  void release(std::span<const BlockIndex> table);

  bool is_cached(BlockId id) const { return index_.contains(id); }
  std::uint32_t references(BlockIndex block) const { return blocks_[block].refs; }
  std::size_t cached_blocks() const { return index_.size(); }
  // Blocks holding KV: referenced by running requests or cached for reuse.
  std::uint32_t occupied() const { return capacity() - anonymous_free_; }
  const BlockCounters& counters() const { return counters_; }
  // Identities evicted since the last call, in eviction order (for demotion to lower tiers).
  std::vector<BlockId> take_evicted() { return std::exchange(evicted_, {}); }
  // Whether evicted identities are recorded for take_evicted (off: nobody listens).
  void record_evictions(bool on) { record_evictions_ = on; }

 private:
  static constexpr BlockIndex kNone = ~BlockIndex{0};
  struct Block {
    BlockId id = 0;
    bool has_id = false;
    std::uint32_t refs = 0;
    BlockIndex prev = kNone, next = kNone;  // free-queue links (valid when refs == 0)
  };

  void unlink(BlockIndex b);
  void push_back(BlockIndex b);
  void push_front(BlockIndex b);

  std::vector<Block> blocks_;
  std::unordered_map<BlockId, BlockIndex> index_;
  BlockIndex head_ = kNone, tail_ = kNone;  // head = next to reuse
  std::uint32_t free_count_ = 0;
  std::uint32_t anonymous_free_ = 0;  // free blocks without an identity
  BlockCounters counters_;
  std::vector<BlockId> evicted_;
  bool record_evictions_ = false;
};

}  // namespace kvsim::kvcache
