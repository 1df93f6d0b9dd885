// Eviction machinery shared by the workload-aware policies `wa` (fitted offline from a
// profile) and `wa-online` (fitted during the run); see wa.cpp for the policy itself.
//
// Every candidate sits in one LRU list per category (the category of the request that
// last touched it), as in the authors' vLLM implementation. The opt-in once_first rule
// (off by default) keeps blocks accessed once in a list of their own, evicted before any
// other: it came from a misreading of that implementation (its first list holds blocks
// never *allocated*, which a cache has no counterpart of); measured with `kvsim cache` it
// ignores the profile and lets reused blocks never touched again squat the cache.
// To evict, only the oldest block of each category list is compared, by its probability
// of being reused within the look-ahead window D given its idle time d = now - last access:
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
