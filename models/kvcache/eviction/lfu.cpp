// lfu — least frequently used with dynamic aging (LFU-DA; Arlitt, Cherkasova, Dilley,
// Friedrich & Jin, "Evaluating content management techniques for Web proxy caches",
// Performance Evaluation Review 2000). Plain LFU never forgets: a block that was hot an hour
// ago outlives today's working set. Aging rule: the cache keeps an inflation value L,
// initially 0; a block's key is L + accesses (its touches since it became resident), set
// when it is inserted or touched; the smallest key is evicted and L becomes the victim's
// key. A block not touched for a while therefore falls behind blocks that are new but
// touched since L last rose. Ties leave in LRU order. No parameters. O(log n).
#include "models/kvcache/eviction/keyed_heap.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Lfu final : public KeyedHeapPolicy {
 public:
  using KeyedHeapPolicy::KeyedHeapPolicy;

 protected:
  double key(Slot s) override { return inflation_ + double(state_.blocks[s].accesses); }
  void evicted(double key) override { inflation_ = key; }

 private:
  double inflation_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_lfu(const CacheState& state, const PolicyParams&) { return std::make_unique<Lfu>(state); }

}  // namespace kvsim::kvcache::eviction
