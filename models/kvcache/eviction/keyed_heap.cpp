// Indexed binary heap of KeyedHeapPolicy (see keyed_heap.hpp).
#include "models/kvcache/eviction/keyed_heap.hpp"

#include <cassert>

namespace kvsim::kvcache::eviction {

void KeyedHeapPolicy::push(Slot s, double k) {
  assert(where_[s] == kAbsent);
  heap_.push_back({k, stamp_++, s});
  const auto i = static_cast<std::uint32_t>(heap_.size() - 1);
  where_[s] = i;
  sift_up(i);
}

void KeyedHeapPolicy::erase(Slot s) {
  const std::uint32_t i = where_[s];
  if (i == kAbsent) return;
  where_[s] = kAbsent;
  const Node last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  const bool up = less(last, heap_[i]);
  place(i, last);
  if (up)
    sift_up(i);
  else
    sift_down(i);
}

Slot KeyedHeapPolicy::victim() {
  assert(!heap_.empty());
  const Node top = heap_.front();
  erase(top.slot);
  evicted(top.key);
  return top.slot;
}

void KeyedHeapPolicy::sift_up(std::uint32_t i) {
  const Node n = heap_[i];
  while (i > 0) {
    const std::uint32_t parent = (i - 1) / 2;
    if (!less(n, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, n);
}

void KeyedHeapPolicy::sift_down(std::uint32_t i) {
  const Node n = heap_[i];
  const auto size = static_cast<std::uint32_t>(heap_.size());
  for (;;) {
    std::uint32_t child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && less(heap_[child + 1], heap_[child])) ++child;
    if (!less(heap_[child], n)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, n);
}

}  // namespace kvsim::kvcache::eviction
