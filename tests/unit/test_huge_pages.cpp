// The huge-page allocator of the large tables (sim/util/huge_pages.hpp): large arrays come
// 2 MiB-aligned (the alignment a transparent huge page needs), small ones from the ordinary
// allocator, and a FlatIndex on it keeps its contents through growth.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "models/kvcache/flat_index.hpp"
#include "sim/util/huge_pages.hpp"

using kvsim::HugePageAllocator;
using kvsim::kHugePageBytes;
using kvsim::kHugePageMinBytes;

TEST_CASE("huge page allocator aligns large arrays to 2 MiB and keeps their values") {
  // 5 MiB of doubles: above the threshold, so aligned to a huge page boundary.
  std::vector<double, HugePageAllocator<double>> big(5 * (std::size_t{1} << 20) / sizeof(double));
  REQUIRE(big.size() * sizeof(double) >= kHugePageMinBytes);
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % kHugePageBytes == 0);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = double(i) * 0.5;
  // Growing copies into a new large array (aligned too) and frees the old one.
  big.resize(3 * big.size());
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % kHugePageBytes == 0);
  CHECK(big[12345] == 6172.5);
  CHECK(big[5 * (std::size_t{1} << 20) / sizeof(double) - 1] == double(5 * (std::size_t{1} << 20) / sizeof(double) - 1) * 0.5);
  CHECK(big.back() == 0.0);
}

TEST_CASE("huge page allocator leaves small arrays to the ordinary allocator") {
  HugePageAllocator<std::uint64_t> a;
  // 1 KiB: the ordinary allocator's 16-byte alignment, not a 2 MiB one (a 2 MiB-aligned
  // small block would mean every small table wasted a huge page).
  std::uint64_t* p = a.allocate(128);
  std::uint64_t* q = a.allocate(128);
  const bool both_aligned = reinterpret_cast<std::uintptr_t>(p) % kHugePageBytes == 0 &&
                            reinterpret_cast<std::uintptr_t>(q) % kHugePageBytes == 0;
  CHECK_FALSE(both_aligned);
  CHECK(reinterpret_cast<char*>(q) - reinterpret_cast<char*>(p) != std::ptrdiff_t(kHugePageBytes));
  a.deallocate(p, 128);
  a.deallocate(q, 128);
}

TEST_CASE("flat index on huge pages keeps every entry through its rehashes") {
  // 300,000 entries of 16 bytes at load <= 1/2: the last tables exceed the threshold.
  kvsim::kvcache::FlatIndex<std::uint32_t> index;
  constexpr std::uint32_t n = 300'000;
  for (std::uint32_t i = 0; i < n; ++i) index.put(std::uint64_t{i} * 7919 + 1, i);
  CHECK(index.size() == n);
  for (std::uint32_t i = 0; i < n; i += 997) {
    const std::uint32_t* v = index.find(std::uint64_t{i} * 7919 + 1);
    REQUIRE(v != nullptr);
    CHECK(*v == i);
  }
  CHECK(index.find(2) == nullptr);
  for (std::uint32_t i = 0; i < n; i += 2) CHECK(index.erase(std::uint64_t{i} * 7919 + 1));
  CHECK(index.size() == n / 2);
  CHECK(index.find(std::uint64_t{1} * 7919 + 1) != nullptr);
  CHECK(index.find(std::uint64_t{2} * 7919 + 1) == nullptr);
}
