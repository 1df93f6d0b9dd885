// lru — least recently used (the classic; vLLM's and SGLang's prefix caches evict in this
// order). Candidates are kept from least to most recently touched; a block coming back
// from a pin counts as just used. Because a request touches its blocks tail to head, the
// tail of a prefix leaves before its head. No parameters. O(1) per operation (amortized).
//
// Shape, for speed: the order is an array of slots in the order they became most recent,
// in which a touch or an erase only blanks the slot's old entry (no neighbours to relink)
// and victims are taken from the front, skipping blanks. So the next victims lie one after
// the other in memory and upcoming_victim() can name them: the owner prefetches what
// evicting them will read (their metadata, their index entries), which a linked list,
// whose next victim is known only once the current one is read, cannot offer. The array
// is compacted when blanks and taken entries outnumber the candidates.
#include <cstdint>

#include "models/kvcache/eviction/policy.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Lru final : public Policy {
 public:
  void resize(Slot slots) override { at_.resize(slots); }
  void insert(Slot s) override { push(s); }
  void touch(Slot s) override {
    if (at_[s] + 1 == order_.size()) return;  // already the most recent
    erase(s);
    push(s);
  }
  void erase(Slot s) override {
    order_[at_[s]] = kNoSlot;
    --live_;
  }
  Slot victim() override {
    while (order_[head_] == kNoSlot) ++head_;
    --live_;
    return order_[head_++];
  }
  Slot upcoming_victim(std::size_t ahead) const override {
    const std::size_t i = head_ + ahead;
    return i < order_.size() ? order_[i] : kNoSlot;
  }
  bool reads_block_metadata() const override { return false; }

 private:
  void push(Slot s) {
    // Compaction costs one pass over the array, paid for by the entries it drops (at least
    // half of them), so a push costs O(1) amortized; the array stays within twice the
    // candidates.
    if (order_.size() >= 2 * live_ + 64) compact();
    at_[s] = std::uint32_t(order_.size());
    order_.push_back(s);
    ++live_;
  }
  void compact() {
    std::size_t n = 0;
    for (std::size_t i = head_; i < order_.size(); ++i) {
      const Slot s = order_[i];
      if (s == kNoSlot) continue;
      order_[n] = s;
      at_[s] = std::uint32_t(n);
      ++n;
    }
    order_.resize(n);
    head_ = 0;
  }

  std::vector<Slot> order_;     // least to most recent; kNoSlot where an entry was blanked
  std::vector<std::uint32_t> at_;  // [slot] index of its entry in order_ (candidates only)
  std::size_t head_ = 0;        // order_[0, head_) are taken
  std::size_t live_ = 0;        // candidates
};

}  // namespace

std::unique_ptr<Policy> make_lru(const CacheState&, const PolicyParams&) { return std::make_unique<Lru>(); }

}  // namespace kvsim::kvcache::eviction
