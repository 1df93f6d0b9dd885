#include "models/kvcache/block_manager.hpp"

#include <cassert>

namespace kvsim::kvcache {

BlockManager::BlockManager(std::uint32_t num_blocks) : blocks_(num_blocks) {
  for (BlockIndex b = 0; b < num_blocks; ++b) push_back(b);
  anonymous_free_ = num_blocks;  // push_back is for cached blocks and does not count these
  index_.reserve(num_blocks);
}

void BlockManager::unlink(BlockIndex b) {
  Block& block = blocks_[b];
  (block.prev == kNone ? head_ : blocks_[block.prev].next) = block.next;
  (block.next == kNone ? tail_ : blocks_[block.next].prev) = block.prev;
  block.prev = block.next = kNone;
  --free_count_;
  if (!block.has_id) --anonymous_free_;
}

void BlockManager::push_back(BlockIndex b) {
  Block& block = blocks_[b];
  block.prev = tail_;
  block.next = kNone;
  (tail_ == kNone ? head_ : blocks_[tail_].next) = b;
  tail_ = b;
  ++free_count_;
}

void BlockManager::push_front(BlockIndex b) {
  Block& block = blocks_[b];
  ++anonymous_free_;
  block.prev = kNone;
  block.next = head_;
  (head_ == kNone ? tail_ : blocks_[head_].prev) = b;
  head_ = b;
  ++free_count_;
}

std::uint32_t BlockManager::match_prefix(std::span<const BlockId> ids, std::uint32_t max_blocks,
                                         std::uint32_t* unreferenced) const {
  std::uint32_t n = 0, free_hits = 0;
  const std::size_t limit = std::min<std::size_t>(ids.size(), max_blocks);
  for (; n < limit; ++n) {
    auto it = index_.find(ids[n]);
    if (it == index_.end()) break;
    if (blocks_[it->second].refs == 0) ++free_hits;
  }
  if (unreferenced) *unreferenced = free_hits;
  return n;
}

void BlockManager::acquire_cached(std::span<const BlockId> ids, std::uint32_t n, std::vector<BlockIndex>& table) {
  for (std::uint32_t i = 0; i < n; ++i) {
    const BlockIndex b = index_.at(ids[i]);
    if (blocks_[b].refs++ == 0) unlink(b);
    table.push_back(b);
  }
  counters_.hit_blocks += n;
}

bool BlockManager::allocate(std::uint32_t n, std::vector<BlockIndex>& table) {
  if (n > free_count_) return false;
  for (std::uint32_t i = 0; i < n; ++i) {
    const BlockIndex b = head_;
    unlink(b);
    Block& block = blocks_[b];
    if (block.has_id) {
      index_.erase(block.id);
      block.has_id = false;
      ++counters_.evicted;
      if (record_evictions_) evicted_.push_back(block.id);
    }
    block.refs = 1;
    table.push_back(b);
  }
  counters_.allocated += n;
  return true;
}

void BlockManager::publish(BlockIndex b, BlockId id) {
  Block& block = blocks_[b];
  if (block.has_id) return;
  if (index_.try_emplace(id, b).second) {
    block.id = id;
    block.has_id = true;
  }
}

void BlockManager::release(std::span<const BlockIndex> table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    Block& block = blocks_[*it];
    assert(block.refs > 0);
    if (--block.refs > 0) continue;
    if (block.has_id)
      push_back(*it);
    else
      push_front(*it);
  }
}

}  // namespace kvsim::kvcache
