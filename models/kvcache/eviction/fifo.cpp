// fifo — first in, first out: blocks leave in the order they became candidates, hits do
// not reorder them. The baseline that S3-FIFO and SIEVE improve on. A block coming back
// from a pin re-enters at the back (the queue holds candidates only). No parameters. O(1).
#include "models/kvcache/eviction/slot_list.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Fifo final : public Policy {
 public:
  void resize(Slot slots) override { links_.resize(slots); }
  void insert(Slot s) override { list_.push_back(links_, s); }
  void touch(Slot) override {}
  void erase(Slot s) override { list_.remove(links_, s); }
  Slot victim() override { return list_.pop_front(links_); }
  bool reads_block_metadata() const override { return false; }

 private:
  SlotLinks links_;
  SlotList list_;
};

}  // namespace

std::unique_ptr<Policy> make_fifo(const CacheState&, const PolicyParams&) { return std::make_unique<Fifo>(); }

}  // namespace kvsim::kvcache::eviction
