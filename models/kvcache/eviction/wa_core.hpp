// Eviction machinery shared by the workload-aware policies `wa` (fitted offline from a
// profile) and `wa-online` (fitted during the run); see wa.cpp for the policy itself.
//
// Blocks accessed once since they became resident sit in one LRU list and are evicted
// first (they have never shown a reuse), unless once_first is off: then they join their
// category's list like reused blocks. Caveat measured with `kvsim cache`: with once_first
// every fresh block goes before any reused one, so reused blocks that are never touched
// again are only evicted when no fresh block is left, and can squat the cache. Reused blocks sit in one LRU list per category
// (the category of the request that last touched them). To evict, only the oldest block of
// each category list is compared, by its probability of being reused within the look-ahead
// window D given its idle time d = now - last access:
//   priority = p_w * (exp(-lambda_w * d) - exp(-lambda_w * (d + D)))
// The lowest priority is evicted; a category without a model (lambda = 0 or p = 0) has
// priority 0. Ties go to the block idle longest, then to the lower category index.
// Priorities are compared as logarithms, log p - lambda d + log(1 - exp(-lambda D)), which
// needs no exponential per comparison and does not underflow for long idle times.
#pragma once

#include <cstdint>
#include <vector>

#include "models/kvcache/eviction/slot_list.hpp"
#include "models/kvcache/eviction/wa_profile.hpp"

namespace kvsim::kvcache::eviction {

class WorkloadAwarePolicy : public Policy {
 public:
  // once_first: keep blocks accessed once in their own list, evicted before any other.
  WorkloadAwarePolicy(const CacheState& state, double lookahead, bool once_first)
      : state_(state), lookahead_(lookahead), once_first_(once_first) {}

  void resize(Slot slots) override {
    links_.resize(slots);
    list_of_.resize(slots, 0);
  }
  void insert(Slot s) override;
  void touch(Slot s) override;
  void erase(Slot s) override { list(list_of_[s]).remove(links_, s); }
  Slot victim() override;

 protected:
  // The model of a category now (nullptr or lambda/p of 0 = unknown).
  virtual CategoryModel model(std::uint16_t category) = 0;
  // Every insert and touch reports one use of the block (wa-online learns from it).
  virtual void observed(Slot) {}
  const CacheState& state_;

 private:
  static constexpr std::uint32_t kOnce = 0;  // list index 0; category k is list k + 1
  SlotList& list(std::uint32_t index) {
    if (index >= lists_.size()) lists_.resize(index + 1);
    return lists_[index];
  }
  void place(Slot s);

  double lookahead_;  // s
  bool once_first_;
  SlotLinks links_;
  std::vector<SlotList> lists_;          // [0] accessed once, [k + 1] reused, category k
  std::vector<std::uint32_t> list_of_;   // list index of each candidate slot
};

}  // namespace kvsim::kvcache::eviction
