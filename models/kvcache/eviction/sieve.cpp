// sieve — SIEVE (Zhang, Yang, Yue, Vigfusson & Rashmi, "SIEVE is simpler than LRU: an
// efficient turn-key eviction algorithm for web caches", NSDI'24). One FIFO queue of
// candidates and a "hand". A hit only sets the block's visited bit (no reordering). To
// evict, the hand walks from the oldest block towards newer ones, clearing visited bits,
// and evicts the first unvisited block; it stays where it stopped for the next eviction
// and wraps to the oldest block at the new end. New blocks enter at the new end unvisited;
// a block coming back from a pin (accesses > 1) enters visited, since it was just used.
// The hand's position is the policy's whole memory of where the sweep stopped: the block
// after the victim (towards newer ones), so the next eviction does not re-examine blocks
// whose bits the previous sweep just cleared. Without it SIEVE degenerates to FIFO with
// second chances given over and over to the same old blocks.
// No parameters. Amortised O(1).
#include "models/kvcache/eviction/slot_list.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Sieve final : public Policy {
 public:
  explicit Sieve(const CacheState& state) : state_(state) {}

  void resize(Slot slots) override {
    links_.resize(slots);
    visited_.resize(slots, 0);
  }
  void insert(Slot s) override {
    visited_[s] = state_.blocks[s].accesses > 1;
    list_.push_back(links_, s);
  }
  void touch(Slot s) override { visited_[s] = 1; }
  void erase(Slot s) override {
    if (hand_ == s) hand_ = links_.links[s].next;
    list_.remove(links_, s);
  }
  Slot victim() override {
    Slot h = hand_ == kNoSlot ? list_.front() : hand_;
    while (visited_[h]) {
      visited_[h] = 0;
      h = links_.links[h].next;
      if (h == kNoSlot) h = list_.front();
    }
    // The sweep resumes after the victim next time (kNoSlot: wrap to the oldest).
    hand_ = links_.links[h].next;
    list_.remove(links_, h);
    return h;
  }

 private:
  const CacheState& state_;
  SlotLinks links_;  // prev = older, next = newer
  SlotList list_;
  std::vector<std::uint8_t> visited_;
  Slot hand_ = kNoSlot;  // next block to examine; kNoSlot = start from the oldest
};

}  // namespace

std::unique_ptr<Policy> make_sieve(const CacheState& state, const PolicyParams&) {
  return std::make_unique<Sieve>(state);
}

}  // namespace kvsim::kvcache::eviction
