// A compact open-addressing hash map from 64-bit keys to a small trivially copyable value,
// for trace analysis where the key set (block identities, sessions) runs to tens of millions
// and std::unordered_map's node per entry (~40-60 bytes plus the key and value) would
// dominate memory and time.
//
// Layout: one flat array of {key, value} slots, linear probing, power-of-two capacity kept
// at most 70 % full (so between 35 % and 70 % after growth). A slot with key 0 is empty;
// the key 0 itself is stored beside the array. A key's home slot is the high bits of the key
// after a full-avalanche mix (MurmurHash3's 64-bit finaliser), which scatters small sequential
// keys such as session ids. Plain Fibonacci hashing (the high bits of key * 2^64/phi) is
// linear, so a trace could list ids (multiples of phi's inverse) that all share one home
// slot and make every insertion walk the whole run: quadratic time. The mix is fixed, not
// keyed, so that iteration order (and floating-point sums over it) stays reproducible; a
// determined adversary could still invert it, which a trace analysis tool accepts.
// For a 16-byte slot the cost is 23-46 bytes per key.
//
// Iteration order depends on the hash and capacity; callers must not let it reach output
// (trace_stats only sums over it or sorts what it collects).
//
// The slot array comes straight from mmap: fresh pages are zero (an empty table costs no
// pass to clear), and a large array is advised onto 2 MiB pages. Every lookup in a table
// of millions of blocks is a random access, and with 4 KiB pages also a TLB miss whose
// page walk (nested under virtualisation) costs as much as the access; huge pages made
// `kvsim trace stats` markedly faster on a million-request trace (tools/bench_trace_stats.sh).
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace kvsim::workload {

// MurmurHash3's 64-bit finaliser: every input bit affects every output bit, so any slice
// of the result (high bits for a home slot, low bits for a set) depends on the whole key.
constexpr std::uint64_t fmix64(std::uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ULL;
  key ^= key >> 33;
  return key;
}

template <class Value>
class U64Map {
  static_assert(std::is_trivially_copyable_v<Value>);

 public:
  struct Slot {
    std::uint64_t key;
    Value value;
  };

  explicit U64Map(std::size_t initial_capacity = 1024) { rehash(round_up(initial_capacity)); }
  ~U64Map() { release(slots_, capacity_); }
  U64Map(const U64Map&) = delete;
  U64Map& operator=(const U64Map&) = delete;

  std::size_t size() const { return size_ + (has_zero_ ? 1 : 0); }

  // Makes room for `more` insertions without rehashing, so slot pointers obtained after
  // this call (and prefetches) stay valid until then.
  void reserve_more(std::size_t more) {
    if ((size_ + more) * 10 > capacity_ * 7) {
      std::size_t capacity = capacity_;
      while ((size_ + more) * 10 > capacity * 7) capacity *= 2;
      rehash(capacity);
    }
  }

  // The value for key, and whether it was inserted now (value-initialised) or existed.
  // Requires reserve_more() to have made room for one insertion.
  std::pair<Value*, bool> find_or_insert(std::uint64_t key) {
    if (key == 0) {
      const bool inserted = !has_zero_;
      if (inserted) zero_value_ = Value{};
      has_zero_ = true;
      return {&zero_value_, inserted};
    }
    const std::size_t start = home(key);
    for (std::size_t i = start;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.key == key) return {&slot.value, false};
      if (slot.key == 0) {
        slot.key = key;
        slot.value = Value{};
        ++size_;
        longest_ = std::max(longest_, (i - start) & mask_);
        return {&slot.value, true};
      }
    }
  }

  // The value for key, nullptr when absent (valid until the next insertion).
  const Value* find(std::uint64_t key) const {
    if (key == 0) return has_zero_ ? &zero_value_ : nullptr;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].value;
      if (slots_[i].key == 0) return nullptr;
    }
  }

  // Inserting grows the table when needed (single insertions outside a reserved batch).
  std::pair<Value*, bool> insert_one(std::uint64_t key) {
    reserve_more(1);
    return find_or_insert(key);
  }

  // Hints the cache to load key's home slot (the lookup is a random DRAM access on large
  // tables; issuing a few ahead overlaps their latencies).
  void prefetch(std::uint64_t key) const { __builtin_prefetch(&slots_[home(key)]); }

  // The longest distance of a stored key from its home slot: a lookup of that key probes
  // this many slots past the first. Large values mean clustered homes (a hash flood).
  std::size_t longest_probe() const {
    std::size_t longest = 0;
    for (std::size_t i = 0; i < capacity_; ++i)
      if (slots_[i].key != 0) longest = std::max(longest, (i - home(slots_[i].key)) & mask_);
    return longest;
  }

  // Calls f(key, value) for every entry, in an unspecified order.
  template <class F>
  void for_each(F&& f) const {
    if (has_zero_) f(std::uint64_t{0}, zero_value_);
    for (std::size_t i = 0; i < capacity_; ++i)
      if (slots_[i].key != 0) f(slots_[i].key, slots_[i].value);
  }

 private:
  static std::size_t round_up(std::size_t n) {
    std::size_t capacity = 16;
    while (capacity < n) capacity *= 2;
    return capacity;
  }

  // The high bits used as the home slot depend on the whole key (see fmix64).
  static std::uint64_t mix(std::uint64_t key) { return fmix64(key); }

  std::size_t home(std::uint64_t key) const { return static_cast<std::size_t>(mix(key) >> shift_); }

  // capacity zeroed slots (key 0 = empty; the value of an empty slot is never read).
  static Slot* allocate(std::size_t capacity) {
    const std::size_t bytes = capacity * sizeof(Slot);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (bytes >= kHugePageBytes) (void)madvise(p, bytes, MADV_HUGEPAGE);  // advice only
    return static_cast<Slot*>(p);
  }
  static void release(Slot* slots, std::size_t capacity) {
    if (slots) munmap(slots, capacity * sizeof(Slot));
  }

  // Grows the table in place: mremap keeps the old slots' pages and adds zero ones, so
  // growing to 2^k times the size asks the kernel for the new part only (the old table and
  // a fresh copy never coexist: a third less peak memory, half the pages to clear). The
  // entries then move to their new homes from the top down. An entry at p >= k (below) has
  // its home h > its displacement d = p - h, so its new home, at least 2h, lies above p:
  // its probe meets only entries already moved or empty slots, never one still to move,
  // and never one that moves later. The entries below k (those displaced past their home
  // index, and any wrapped around the end) are set aside first and inserted last.
  void rehash(std::size_t capacity) {
    const std::size_t old_capacity = capacity_;
    std::vector<Slot> aside;
    std::size_t k = 0;  // slots [0, k) are set aside; the others move in place
    if (slots_ == nullptr) {
      slots_ = allocate(capacity);
    } else {
      k = std::min(old_capacity, 2 * longest_ + 1);
      while (k < old_capacity && slots_[k].key != 0) ++k;
      for (std::size_t i = 0; i < k; ++i)
        if (slots_[i].key != 0) {
          aside.push_back(slots_[i]);
          slots_[i].key = 0;
        }
      const std::size_t bytes = capacity * sizeof(Slot);
      void* p = mremap(slots_, old_capacity * sizeof(Slot), bytes, MREMAP_MAYMOVE);
      if (p == MAP_FAILED) throw std::bad_alloc();
      if (bytes >= kHugePageBytes) (void)madvise(p, bytes, MADV_HUGEPAGE);  // advice only
      slots_ = static_cast<Slot*>(p);
    }
    capacity_ = capacity;
    mask_ = capacity - 1;
    shift_ = 64;
    for (std::size_t c = capacity; c > 1; c /= 2) --shift_;
    longest_ = 0;
    for (std::size_t i = old_capacity; i-- > k;) {
      if (slots_[i].key == 0) continue;
      const Slot slot = slots_[i];
      slots_[i].key = 0;
      place(slot);
    }
    for (const Slot& slot : aside) place(slot);
  }

  // Inserts a key known to be absent.
  void place(const Slot& slot) {
    const std::size_t start = home(slot.key);
    std::size_t i = start;
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
    longest_ = std::max(longest_, (i - start) & mask_);
  }

  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
  Slot* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t longest_ = 0;  // longest displacement of a stored key from its home slot
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;  // non-zero keys
  bool has_zero_ = false;
  Value zero_value_{};
};

}  // namespace kvsim::workload
