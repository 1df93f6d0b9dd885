// lru — least recently used (the classic; vLLM's and SGLang's prefix caches evict in this
// order). One list of candidates from least to most recently touched; a block coming back
// from a pin counts as just used. Because a request touches its blocks tail to head, the
// tail of a prefix leaves before its head. No parameters. O(1) per operation.
#include "models/kvcache/eviction/slot_list.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Lru final : public Policy {
 public:
  void resize(Slot slots) override { links_.resize(slots); }
  void insert(Slot s) override { list_.push_back(links_, s); }
  void touch(Slot s) override { list_.move_to_back(links_, s); }
  void erase(Slot s) override { list_.remove(links_, s); }
  Slot victim() override { return list_.pop_front(links_); }
  bool reads_block_metadata() const override { return false; }

 private:
  SlotLinks links_;
  SlotList list_;
};

}  // namespace

std::unique_ptr<Policy> make_lru(const CacheState&, const PolicyParams&) { return std::make_unique<Lru>(); }

}  // namespace kvsim::kvcache::eviction
