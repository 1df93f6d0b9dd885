#include "models/kvcache/tier_store.hpp"

namespace kvsim::kvcache {

TierStore::TierStore(std::string name, std::uint64_t capacity_blocks)
    : name_(std::move(name)), capacity_(capacity_blocks) {}

void TierStore::unlink(std::uint32_t n) {
  Node& node = nodes_[n];
  (node.prev == kNone ? head_ : nodes_[node.prev].next) = node.next;
  (node.next == kNone ? tail_ : nodes_[node.next].prev) = node.prev;
}

void TierStore::push_front(std::uint32_t n) {
  Node& node = nodes_[n];
  node.prev = kNone;
  node.next = head_;
  (head_ == kNone ? tail_ : nodes_[head_].prev) = n;
  head_ = n;
}

void TierStore::touch(workload::BlockId id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  unlink(it->second);
  push_front(it->second);
}

std::vector<workload::BlockId> TierStore::insert(workload::BlockId id) {
  std::vector<workload::BlockId> evicted;
  if (capacity_ == 0) return evicted;
  if (index_.contains(id)) {
    touch(id);
    return evicted;
  }
  while (index_.size() >= capacity_) {
    const std::uint32_t victim = tail_;
    evicted.push_back(nodes_[victim].id);
    index_.erase(nodes_[victim].id);
    unlink(victim);
    free_nodes_.push_back(victim);
    ++counters_.evicted_blocks;
  }
  std::uint32_t n;
  if (!free_nodes_.empty()) {
    n = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    n = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back({});
  }
  nodes_[n].id = id;
  push_front(n);
  index_.emplace(id, n);
  ++counters_.inserted_blocks;
  return evicted;
}

void TierStore::erase(workload::BlockId id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  unlink(it->second);
  free_nodes_.push_back(it->second);
  index_.erase(it);
  ++counters_.removed_blocks;
}

}  // namespace kvsim::kvcache
