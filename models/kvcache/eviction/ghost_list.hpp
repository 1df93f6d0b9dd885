// A bounded-by-the-caller FIFO of identities of evicted blocks ("ghosts"), with O(1)
// membership, removal from the middle and removal of the oldest: the history that ARC
// (B1, B2) and S3-FIFO (G) keep about blocks no longer resident. Ghost nodes live in dense
// arrays recycled through a free stack, so nothing is allocated per eviction once warm.
#pragma once

#include <vector>

#include "models/kvcache/eviction/slot_list.hpp"
#include "models/kvcache/flat_index.hpp"

namespace kvsim::kvcache::eviction {

class GhostList {
 public:
  std::size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }
  bool contains(workload::BlockId id) const { return index_.find(id) != nullptr; }
  // Removes id if present; returns whether it was.
  bool remove(workload::BlockId id) {
    const Slot* node = index_.find(id);
    if (!node) return false;
    drop(*node);
    return true;
  }
  // Adds id as the newest ghost (moves it there if already present).
  void push(workload::BlockId id) {
    remove(id);
    Slot node;
    if (!free_.empty()) {
      node = free_.back();
      free_.pop_back();
    } else {
      node = static_cast<Slot>(ids_.size());
      ids_.push_back(0);
      links_.resize(node + 1);
    }
    ids_[node] = id;
    index_.put(id, node);
    order_.push_back(links_, node);
  }
  void pop_oldest() {
    if (!order_.empty()) drop(order_.front());
  }

 private:
  void drop(Slot node) {
    index_.erase(ids_[node]);
    order_.remove(links_, node);
    free_.push_back(node);
  }
  std::vector<workload::BlockId> ids_;
  std::vector<Slot> free_;
  SlotLinks links_;
  SlotList order_;
  FlatIndex<Slot> index_;
};

}  // namespace kvsim::kvcache::eviction
