// U64Map (workloads/analysis/u64_map.hpp) against hash flooding (issue 10, item 12): ids
// crafted so that the old Fibonacci hash sent all of them to one home slot must spread.
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "workloads/analysis/u64_map.hpp"

using kvsim::workload::U64Map;

namespace {

// The inverse of an odd number modulo 2^64 by Newton's iteration (each step doubles the
// number of correct low bits; 3 bits are right to start with).
std::uint64_t inverse_mod_2_64(std::uint64_t a) {
  std::uint64_t x = a;
  for (int i = 0; i < 6; ++i) x *= 2 - a * x;
  return x;
}

}  // namespace

TEST_CASE("U64Map: ids crafted against multiplicative hashing do not share a home slot") {
  constexpr std::uint64_t kPhi = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio, the old multiplier
  const std::uint64_t inverse = inverse_mod_2_64(kPhi);
  REQUIRE(inverse * kPhi == 1);
  // key_i * phi = i (mod 2^64): under the old hash every key's home was the top bits of i,
  // that is slot 0, and the i-th insertion probed i slots (200k keys: 2e10 probes).
  constexpr std::uint64_t n = 200000;
  U64Map<std::uint32_t> map;
  for (std::uint64_t i = 1; i <= n; ++i) *map.insert_one(i * inverse).first = static_cast<std::uint32_t>(i);
  CHECK(map.size() == n);
  // Linear probing at <= 70 % load with well-spread homes has runs of a few dozen slots at
  // most; one shared home would give a run of n - 1.
  CHECK(map.longest_probe() < 100);
  for (std::uint64_t i = 1; i <= n; i += 997) {
    const auto [value, inserted] = map.insert_one(i * inverse);
    CHECK_FALSE(inserted);
    CHECK(*value == i);
  }
}

TEST_CASE("U64Map: consecutive and strided keys stay spread too") {
  for (const std::uint64_t stride : {std::uint64_t{1}, std::uint64_t{1} << 20, std::uint64_t{1} << 44}) {
    CAPTURE(stride);
    U64Map<std::uint32_t> map;
    for (std::uint64_t i = 1; i <= 50000; ++i) map.insert_one(i * stride);
    CHECK(map.size() == 50000);
    CHECK(map.longest_probe() < 100);
  }
}

TEST_CASE("U64Map: find sees every inserted key and no other, across growth to huge-page sizes") {
  // 300,000 keys of 16-byte slots grow the table past 4 MiB, where its memory is advised
  // onto 2 MiB pages: lookups must not care. Keys are 3k (0 included); 3k+1 never is.
  U64Map<std::uint32_t> map(16);
  for (std::uint64_t k = 0; k < 300000; ++k) *map.insert_one(3 * k).first = static_cast<std::uint32_t>(k);
  CHECK(map.size() == 300000);
  for (std::uint64_t k = 0; k < 300000; k += 7) {
    const std::uint32_t* v = map.find(3 * k);
    REQUIRE(v != nullptr);
    CHECK(*v == k);
    CHECK(map.find(3 * k + 1) == nullptr);
  }
  CHECK(*map.find(0) == 0);
  U64Map<std::uint32_t> empty;
  CHECK(empty.find(0) == nullptr);
  CHECK(empty.find(5) == nullptr);
}

TEST_CASE("U64Map: growth in place keeps every key findable, wrapped clusters included") {
  // Small tables filled to just below the growth threshold many times over: clusters that
  // wrap around the end and keys displaced past their home index occur in many of the 300
  // maps, and the in-place growth (entries moved top-down, the low ones set aside) must
  // keep each key reachable from its new home after every doubling.
  std::uint64_t state = 12345;
  const auto next_key = [&state] {
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    return (z ^ (z >> 27)) | 1;  // never 0 (stored beside the table)
  };
  for (int m = 0; m < 300; ++m) {
    U64Map<std::uint32_t> map(16);
    std::vector<std::uint64_t> keys;
    for (std::uint32_t n = 0; n < 700; ++n) {
      keys.push_back(next_key());
      *map.insert_one(keys.back()).first = n;
    }
    REQUIRE(map.size() == keys.size());
    for (std::uint32_t n = 0; n < keys.size(); ++n) {
      const std::uint32_t* v = map.find(keys[n]);
      REQUIRE(v != nullptr);
      CHECK(*v == n);
    }
  }
}
