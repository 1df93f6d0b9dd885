// An open-addressing hash map from block identity to a small value (a cache slot, an
// access index), for the hot paths of the cache replay, trace profiling and ghost lists.
// std::unordered_map allocates one node per entry and chases a pointer per lookup; here
// a lookup is one multiply and, almost always, one cache line. Linear probing with
// backward-shift deletion (no tombstones), load factor at most 1/2, capacity a power of
// two. Block identities are already well-mixed hashes, but tests use small integers, so
// the index is still scrambled (Fibonacci hashing). Iteration (for_each) is in table order,
// which callers must not let show in results.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/util/huge_pages.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

template <typename Value>
class FlatIndex {
 public:
  explicit FlatIndex(std::size_t expected = 16) { rehash(std::bit_ceil(std::max<std::size_t>(16, 2 * expected))); }

  std::size_t size() const { return size_; }

  // Pointer to the value of id, nullptr when absent (valid until the next insertion).
  const Value* find(workload::BlockId id) const {
    for (std::size_t i = home(id);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (!e.used) return nullptr;
      if (e.key == id) return &e.value;
    }
  }
  Value* find(workload::BlockId id) {
    return const_cast<Value*>(static_cast<const FlatIndex*>(this)->find(id));
  }
  // Hints that id is about to be looked up: its home line is fetched ahead (the replay
  // knows a request's identities in advance, and a probe is a cache miss once the table
  // outgrows the L2 cache).
  void prefetch(workload::BlockId id) const { __builtin_prefetch(entries_.data() + home(id)); }
  // Inserts or overwrites.
  void put(workload::BlockId id, Value value) {
    if (2 * (size_ + 1) > entries_.size()) rehash(2 * entries_.size());
    std::size_t i = home(id);
    for (; entries_[i].used; i = (i + 1) & mask_)
      if (entries_[i].key == id) {
        entries_[i].value = value;
        return;
      }
    entries_[i] = {id, value, true};
    ++size_;
  }
  // Inserts id -> value unless id is present; returns the value stored for id and whether
  // it was inserted (one probe sequence for "find or insert").
  std::pair<Value*, bool> emplace(workload::BlockId id, Value value) {
    if (2 * (size_ + 1) > entries_.size()) rehash(2 * entries_.size());
    std::size_t i = home(id);
    for (; entries_[i].used; i = (i + 1) & mask_)
      if (entries_[i].key == id) return {&entries_[i].value, false};
    entries_[i] = {id, value, true};
    ++size_;
    return {&entries_[i].value, true};
  }
  // Removes id if present; returns whether it was.
  bool erase(workload::BlockId id) { return erase_where(id, [](const Value&) { return true; }); }
  // Removes id only when it maps to value; returns whether it did.
  bool erase(workload::BlockId id, const Value& value) {
    return erase_where(id, [&](const Value& v) { return v == value; });
  }
  // Calls visit(id, value) for every entry, in an order that depends on the table's
  // history: callers must not let it show in results.
  template <typename Visit>
  void for_each(Visit visit) const {
    for (const auto& e : entries_)
      if (e.used) visit(e.key, e.value);
  }
  void clear() {
    for (auto& e : entries_) e.used = false;
    size_ = 0;
  }

 private:
  template <typename Match>
  bool erase_where(workload::BlockId id, Match match) {
    std::size_t i = home(id);
    for (;; i = (i + 1) & mask_) {
      if (!entries_[i].used) return false;
      if (entries_[i].key == id) break;
    }
    if (!match(entries_[i].value)) return false;
    // Backward shift: pull later members of the probe run into the hole when their home
    // position does not lie (cyclically) in (hole, their position].
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (!entries_[j].used) break;
      const std::size_t h = home(entries_[j].key);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      entries_[i] = entries_[j];
      i = j;
    }
    entries_[i].used = false;
    --size_;
    return true;
  }

  struct Entry {
    workload::BlockId key = 0;
    Value value{};
    bool used = false;
  };
  std::size_t home(workload::BlockId id) const {
    return static_cast<std::size_t>((id * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  void rehash(std::size_t capacity) {
    auto old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    size_ = 0;
    // Keys are distinct and the new table has room: each goes to the first free slot of
    // its probe run, as put() would place it, without put()'s checks (a growing pool
    // rehashes about twice as many entries as it ends with).
    for (const auto& e : old) {
      if (!e.used) continue;
      std::size_t i = home(e.key);
      while (entries_[i].used) i = (i + 1) & mask_;
      entries_[i] = e;
      ++size_;
    }
  }

  std::vector<Entry, HugePageAllocator<Entry>> entries_;  // large and probed at random
  std::size_t mask_ = 0;
  int shift_ = 60;
  std::size_t size_ = 0;
};

}  // namespace kvsim::kvcache
