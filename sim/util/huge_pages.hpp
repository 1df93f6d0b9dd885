// An allocator for the large random-access tables of a cluster run (the prefix directory,
// the HBM prefix indexes, the lower-tier stores' indexes): arrays of at least
// kHugePageMinBytes are aligned to 2 MiB and advised to the kernel as transparent huge
// pages (madvise MADV_HUGEPAGE; the system default is often "madvise", i.e. huge pages only
// where asked for). Why: these tables are hundreds of MiB probed at random, so with 4 KiB
// pages nearly every probe also misses the TLB and walks the page tables; with 2 MiB pages
// the TLB covers 512 times as much. Smaller arrays go to the ordinary allocator. The advice
// changes only speed (and may round a table's memory up to whole huge pages), never contents.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#include <sys/mman.h>

namespace kvsim {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
// Below this an array gains little from huge pages and rounding it up would waste memory.
inline constexpr std::size_t kHugePageMinBytes = std::size_t{4} << 20;

template <typename T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() noexcept = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageMinBytes) return std::allocator<T>{}.allocate(n);
    const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* p = std::aligned_alloc(kHugePageBytes, rounded);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE);  // a hint: if refused, the table is only slower
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugePageMinBytes)
      std::allocator<T>{}.deallocate(p, n);
    else
      std::free(p);
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace kvsim
