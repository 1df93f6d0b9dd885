// arc — Adaptive Replacement Cache (Megiddo & Modha, "ARC: a self-tuning, low overhead
// replacement cache", FAST'03). Two LRU lists of candidates, T1 (seen once recently) and
// T2 (seen at least twice), and two ghost lists of identities evicted from them, B1 and B2.
// A new block enters T1, or T2 when its identity is in B1 or B2 (a "ghost hit"), which
// also moves the target size p of T1: up by max(1, |B2|/|B1|) on a B1 hit, down by
// max(1, |B1|/|B2|) on a B2 hit, within [0, c]. A touched block, or one coming back from a
// pin (accesses > 1), goes to T2's most recent end. The victim is T1's oldest block when
// |T1| > p (or |T1| = p after a B2 hit, or T2 is empty), else T2's oldest; its identity
// joins B1 or B2. Ghosts are trimmed so that |T1| + |B1| <= c and all four lists hold at
// most 2c.
// Adaptation: ARC knows its capacity c; a policy here does not, so c is the largest number
// of candidates left after an eviction so far (the cache's capacity once it has filled,
// minus pinned blocks). No parameters. O(1) per operation (amortised for trimming).
#include <algorithm>

#include "models/kvcache/eviction/ghost_list.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Arc final : public Policy {
 public:
  explicit Arc(const CacheState& state) : state_(state) {}

  void resize(Slot slots) override {
    links_.resize(slots);
    in_t2_.resize(slots, 0);
  }
  void insert(Slot s) override {
    const BlockMeta& b = state_.blocks[s];
    last_was_b2_hit_ = false;
    bool frequent = b.accesses > 1;
    const double b1 = double(b1_.size()), b2 = double(b2_.size());
    if (b1_.remove(b.id)) {
      p_ = std::min(c_, p_ + std::max(1.0, b2 / b1));
      frequent = true;
    } else if (b2_.remove(b.id)) {
      p_ = std::max(0.0, p_ - std::max(1.0, b1 / b2));
      frequent = true;
      last_was_b2_hit_ = true;
    }
    in_t2_[s] = frequent;
    (frequent ? t2_ : t1_).push_back(links_, s);
  }
  void touch(Slot s) override {
    if (in_t2_[s]) {
      t2_.move_to_back(links_, s);
      return;
    }
    t1_.remove(links_, s);
    in_t2_[s] = 1;
    t2_.push_back(links_, s);
  }
  void erase(Slot s) override { (in_t2_[s] ? t2_ : t1_).remove(links_, s); }
  Slot victim() override {
    const double t1 = double(t1_.size());
    const bool from_t1 = !t1_.empty() && (t2_.empty() || t1 > p_ || (last_was_b2_hit_ && t1 == p_));
    const Slot s = (from_t1 ? t1_ : t2_).pop_front(links_);
    (from_t1 ? b1_ : b2_).push(state_.blocks[s].id);
    c_ = std::max(c_, double(t1_.size() + t2_.size()));
    while (!b1_.empty() && double(t1_.size() + b1_.size()) > c_) b1_.pop_oldest();
    while (!b2_.empty() && double(t1_.size() + t2_.size() + b1_.size() + b2_.size()) > 2 * c_) b2_.pop_oldest();
    while (double(t1_.size() + t2_.size() + b1_.size() + b2_.size()) > 2 * c_ && !b1_.empty()) b1_.pop_oldest();
    return s;
  }

 private:
  const CacheState& state_;
  SlotLinks links_;
  SlotList t1_, t2_;
  std::vector<std::uint8_t> in_t2_;
  GhostList b1_, b2_;
  double p_ = 0;  // target size of T1, in blocks
  double c_ = 1;  // capacity estimate, in blocks
  bool last_was_b2_hit_ = false;
};

}  // namespace

std::unique_ptr<Policy> make_arc(const CacheState& state, const PolicyParams&) { return std::make_unique<Arc>(state); }

}  // namespace kvsim::kvcache::eviction
