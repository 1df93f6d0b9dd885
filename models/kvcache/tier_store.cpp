#include "models/kvcache/tier_store.hpp"

#include "models/kvcache/prefetch_ahead.hpp"

namespace kvsim::kvcache {

TierStore::TierStore(std::string name, std::uint64_t capacity_blocks, const EvictionChoice& eviction)
    : name_(std::move(name)), capacity_(capacity_blocks) {
  records_.state().category_names = eviction.category_names;
  policy_ = eviction::make_policy(eviction.policy, records_.state(), eviction.params);
  records_.keep_metadata(policy_->reads_block_metadata());
}

bool TierStore::touch(workload::BlockId id, double now, std::uint16_t category) {
  const Slot* slot = index_.find(id);
  if (!slot) return false;
  records_.state().now = now;
  records_.use(*slot, category, now);
  policy_->touch(*slot);
  return true;
}

void TierStore::insert(const EvictedBlock& block, double now, std::vector<EvictedBlock>& evicted) {
  if (capacity_ == 0) return;
  if (touch(block.id, now, block.category)) return;
  insert_absent(block, now, evicted);
}

void TierStore::insert_absent(const EvictedBlock& block, double now, std::vector<EvictedBlock>& evicted) {
  if (capacity_ == 0) return;
  records_.state().now = now;
  while (index_.size() >= capacity_) {
    prefetch_victims(*policy_, records_, [this](workload::BlockId id) { index_.prefetch(id); });
    const Slot victim = policy_->victim();
    evicted.push_back(records_.evicted(victim));
    index_.erase(evicted.back().id);
    free_slots_.push_back(victim);
    ++counters_.evicted_blocks;
  }
  Slot slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = Slot(records_.size());
    records_.resize(slot + 1);
    policy_->resize(slot + 1);
  }
  records_.begin(slot, block.id, block.position, block.category, now);
  index_.put(block.id, slot);
  policy_->insert(slot);
  ++counters_.inserted_blocks;
}

void TierStore::erase(workload::BlockId id) {
  const Slot* found = index_.find(id);
  if (!found) return;
  const Slot slot = *found;
  policy_->erase(slot);
  free_slots_.push_back(slot);
  index_.erase(id);
  ++counters_.removed_blocks;
}

}  // namespace kvsim::kvcache
