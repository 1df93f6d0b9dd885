// gdsf — Greedy-Dual-Size-Frequency (Cherkasova, "Improving WWW proxies performance with
// Greedy-Dual-Size-Frequency caching policy", HP Labs TR 1998), with the cost of a KV block
// being what a miss costs to recompute. Recomputing block p of a prefix means prefilling
// its tokens against the p+1 blocks of context up to it, so its attention FLOPs grow with
// position: cost = position + 1 (in units of a head block). Key = L + accesses * cost /
// tokens, set when the block is inserted or touched; the smallest key is evicted and the
// inflation value L becomes the victim's key (the aging of GreedyDual). Heads are cheap to
// recompute but are prefixes of every later block: evicting one makes its descendants
// unreachable, which plain GDSF does not know; `kvsim cache` shows what that costs.
// No parameters. O(log n).
#include "models/kvcache/eviction/keyed_heap.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class Gdsf final : public KeyedHeapPolicy {
 public:
  using KeyedHeapPolicy::KeyedHeapPolicy;

 protected:
  double key(Slot s) override {
    const BlockMeta& b = state_.blocks[s];
    const double cost = double(b.position) + 1.0;
    return inflation_ + double(b.accesses) * cost / double(b.tokens == 0 ? 1 : b.tokens);
  }
  void evicted(double key) override { inflation_ = key; }

 private:
  double inflation_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_gdsf(const CacheState& state, const PolicyParams&) {
  return std::make_unique<Gdsf>(state);
}

}  // namespace kvsim::kvcache::eviction
