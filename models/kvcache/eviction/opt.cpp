// opt — Belady's MIN (Belady, "A study of replacement algorithms for a virtual-storage
// computer", IBM Systems Journal 1966): evict the block whose next use lies farthest in the
// future (never used again first). Optimal for single-size blocks and an upper bound for
// every other policy here. It reads BlockMeta::next_use, which only an owner that knows the
// whole workload can fill: the replay precomputes it from the trace (the index of the
// block's next access, so that within one future request the head is needed first); the
// timed simulator refuses opt for generated or closed-loop workloads (needs_future).
// Under chained identities a block's tail is never needed before its head, so opt keeps
// resident sets prefix-closed by itself. No parameters. O(log n).
#include "models/kvcache/eviction/keyed_heap.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Opt final : public KeyedHeapPolicy {
 public:
  using KeyedHeapPolicy::KeyedHeapPolicy;

 protected:
  // Min-heap: the farthest next use gets the smallest key.
  double key(Slot s) override { return -state_.blocks[s].next_use; }
};

}  // namespace

std::unique_ptr<Policy> make_opt(const CacheState& state, const PolicyParams&) { return std::make_unique<Opt>(state); }

}  // namespace kvsim::kvcache::eviction
