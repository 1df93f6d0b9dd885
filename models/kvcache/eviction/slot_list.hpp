// Intrusive doubly linked lists over cache slots, the building block of the list-based
// eviction policies (lru, fifo, sieve, s3fifo, arc, wa). Several lists may share one
// SlotLinks array, since a slot is in at most one of them; links of one slot sit next to
// each other so an unlink touches one cache line per neighbour.
#pragma once

#include <cassert>
#include <vector>

#include "models/kvcache/eviction/policy.hpp"

namespace kvsim::kvcache::eviction {

struct SlotLinks {
  struct Link {
    Slot prev = kNoSlot, next = kNoSlot;
  };
  std::vector<Link> links;
  void resize(Slot n) { links.resize(n); }
};

// front = oldest (next to evict), back = newest.
class SlotList {
 public:
  bool empty() const { return front_ == kNoSlot; }
  Slot front() const { return front_; }
  Slot back() const { return back_; }
  std::size_t size() const { return size_; }

  void push_back(SlotLinks& l, Slot s) {
    auto& link = l.links[s];
    link.prev = back_;
    link.next = kNoSlot;
    (back_ == kNoSlot ? front_ : l.links[back_].next) = s;
    back_ = s;
    ++size_;
  }
  void remove(SlotLinks& l, Slot s) {
    auto& link = l.links[s];
    (link.prev == kNoSlot ? front_ : l.links[link.prev].next) = link.next;
    (link.next == kNoSlot ? back_ : l.links[link.next].prev) = link.prev;
    assert(size_ > 0);
    --size_;
  }
  Slot pop_front(SlotLinks& l) {
    const Slot s = front_;
    remove(l, s);
    return s;
  }
  void move_to_back(SlotLinks& l, Slot s) {
    if (back_ == s) return;
    remove(l, s);
    push_back(l, s);
  }
  // Neighbour towards the front (older), kNoSlot at the front.
  static Slot older(const SlotLinks& l, Slot s) { return l.links[s].prev; }

 private:
  Slot front_ = kNoSlot, back_ = kNoSlot;
  std::size_t size_ = 0;
};

}  // namespace kvsim::kvcache::eviction
