// Priority-based eviction shared by lfu, gdsf and opt: the candidates sit in an indexed
// binary min-heap on (key, stamp), where the key is computed by the policy when a block is
// inserted or touched and the stamp is a counter of those events, so equal keys leave in
// least-recently-used order (deterministic). O(log n) per operation.
#pragma once

#include <cstdint>
#include <vector>

#include "models/kvcache/eviction/policy.hpp"

namespace kvsim::kvcache::eviction {

class KeyedHeapPolicy : public Policy {
 public:
  explicit KeyedHeapPolicy(const CacheState& state) : state_(state) {}

  void resize(Slot slots) override { where_.resize(slots, kAbsent); }
  void insert(Slot s) override { push(s, key(s)); }
  void touch(Slot s) override {
    erase(s);
    push(s, key(s));
  }
  void erase(Slot s) override;
  Slot victim() override;

 protected:
  // The block's priority now: the smallest key is evicted first.
  virtual double key(Slot s) = 0;
  // Called with the key of each victim (lfu and gdsf age their inflation value with it).
  virtual void evicted(double /*key*/) {}
  const CacheState& state_;

 private:
  static constexpr std::uint32_t kAbsent = ~std::uint32_t{0};
  struct Node {
    double key;
    std::uint64_t stamp;
    Slot slot;
  };
  static bool less(const Node& a, const Node& b) { return a.key < b.key || (a.key == b.key && a.stamp < b.stamp); }
  void push(Slot s, double k);
  void place(std::uint32_t i, const Node& n) {
    heap_[i] = n;
    where_[n.slot] = i;
  }
  void sift_up(std::uint32_t i);
  void sift_down(std::uint32_t i);

  std::vector<Node> heap_;
  std::vector<std::uint32_t> where_;  // heap index of each slot, kAbsent when not a candidate
  std::uint64_t stamp_ = 0;
};

}  // namespace kvsim::kvcache::eviction
