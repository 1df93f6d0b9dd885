#include "models/kvcache/block_manager.hpp"

#include "models/kvcache/prefetch_ahead.hpp"
#include "models/kvcache/prefix_directory.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace kvsim::kvcache {

BlockManager::BlockManager(std::uint32_t num_blocks, const EvictionChoice& eviction) : capacity_(num_blocks) {
  // index_ and the per-block arrays grow with use: an idle pool costs little. The arrays
  // reserve their full size, which takes address space but no memory until used, so that
  // growing them never copies.
  records_.state().category_names = eviction.category_names;
  policy_ = eviction::make_policy(eviction.policy, records_.state(), eviction.params);
  records_.keep_metadata(policy_->reads_block_metadata());
  blocks_.reserve(num_blocks);
  records_.reserve(num_blocks);
}

BlockIndex BlockManager::fresh_block() {
  if (fresh_ == blocks_.size()) {
    const std::size_t size = std::min<std::size_t>(capacity_, std::max<std::size_t>(64, 2 * blocks_.size()));
    blocks_.resize(size);
    records_.resize(size);
    policy_->resize(eviction::Slot(size));
  }
  return fresh_++;
}

std::uint32_t BlockManager::match_prefix(std::span<const BlockId> ids, std::uint32_t max_blocks,
                                         std::uint32_t* unreferenced) const {
  std::uint32_t n = 0, free_hits = 0;
  const std::size_t limit = std::min<std::size_t>(ids.size(), max_blocks);
  walk_ahead(
      limit, [&](std::size_t j) { index_.prefetch(ids[j]); },
      [&](std::size_t) {
        const BlockIndex* b = index_.find(ids[n]);
        if (!b) return false;
        if (blocks_[*b].refs == 0) ++free_hits;
        ++n;
        return true;
      });
  if (unreferenced) *unreferenced = free_hits;
  return n;
}

void BlockManager::acquire_cached(std::span<const BlockId> ids, std::uint32_t n, std::vector<BlockIndex>& table,
                                  std::uint16_t category) {
  // Head to tail here; the policy sees the touches when the blocks come back (release).
  walk_ahead(
      n, [&](std::size_t j) { index_.prefetch(ids[j]); },
      [&](std::size_t i) {
        const BlockIndex* found = index_.find(ids[i]);
        if (!found) throw std::logic_error("acquire_cached: a block match_prefix did not report");
        const BlockIndex b = *found;
        records_.use(b, category, records_.state().now);
        if (blocks_[b].refs++ == 0) {
          policy_->erase(b);  // pinned: no longer a candidate
          --cached_free_;
        }
        table.push_back(b);
        return true;
      });
  counters_.hit_blocks += n;
}

void BlockManager::prefetch_identity(BlockId id) const {
  index_.prefetch(id);
  if (directory_) directory_->prefetch(id);
}

void BlockManager::drop_identity(BlockIndex b) {
  const BlockId id = records_.id(b);
  index_.erase(id);
  if (directory_) directory_->remove(id, holder_);
  blocks_[b].has_id = false;
  ++counters_.evicted;
  if (record_evictions_) evicted_.push_back(records_.evicted(b));
}

bool BlockManager::allocate(std::uint32_t n, std::vector<BlockIndex>& table) {
  if (n > free_blocks()) return false;
  for (std::uint32_t i = 0; i < n; ++i) {
    BlockIndex b;
    if (!anonymous_.empty()) {
      b = anonymous_.back();
      anonymous_.pop_back();
    } else if (fresh_ < capacity_) {
      b = fresh_block();
    } else {
      b = evict_next();
    }
    blocks_[b].refs = 1;
    table.push_back(b);
  }
  counters_.allocated += n;
  return true;
}

void BlockManager::evict_cached(std::uint32_t n) {
  if (n > cached_free_) throw std::logic_error("evict_cached: fewer cached free blocks than asked");
  for (std::uint32_t i = 0; i < n; ++i) anonymous_.push_back(evict_next());
}

BlockIndex BlockManager::evict_next() {
  prefetch_victims(*policy_, records_, [this](BlockId id) { prefetch_identity(id); });
  const BlockIndex b = policy_->victim();
  --cached_free_;
  drop_identity(b);
  return b;
}

void BlockManager::publish(std::span<const BlockIndex> blocks, std::span<const BlockId> ids, std::uint32_t first,
                           std::uint16_t category) {
  if (blocks.size() != ids.size()) throw std::logic_error("publish: as many identities as blocks expected");
  walk_ahead(
      ids.size(), [&](std::size_t j) { prefetch_identity(ids[j]); },
      [&](std::size_t i) {
        const BlockIndex b = blocks[i];
        Block& block = blocks_[b];
        if (block.has_id) return true;
        if (!index_.emplace(ids[i], b).second) return true;
        block.has_id = true;
        if (directory_) directory_->add(ids[i], holder_);
        records_.begin(b, ids[i], first + std::uint32_t(i), category, records_.state().now);
        return true;
      });
}

void BlockManager::report_to(PrefixDirectory* directory, std::uint32_t holder) {
  directory_ = directory;
  holder_ = holder;
  if (directory_) index_.for_each([this](BlockId id, BlockIndex) { directory_->add(id, holder_); });
}

void BlockManager::release(std::span<const BlockIndex> table) {
  // Tail first; the entries of the blocks a few places further are fetched ahead.
  const std::size_t n = table.size();
  walk_ahead(
      n,
      [&](std::size_t j) {
        const BlockIndex b = table[n - 1 - j];
        __builtin_prefetch(&blocks_[b], 1);
        records_.prefetch_used_until(b);
      },
      [&](std::size_t i) {
        const BlockIndex b = table[n - 1 - i];
        Block& block = blocks_[b];
        assert(block.refs > 0);
        if (--block.refs > 0) return true;
        if (block.has_id) {
          // Used until now: the release is its latest access.
          records_.used_until(b, records_.state().now);
          policy_->insert(b);
          ++cached_free_;
        } else {
          anonymous_.push_back(b);
        }
        return true;
      });
}

}  // namespace kvsim::kvcache
