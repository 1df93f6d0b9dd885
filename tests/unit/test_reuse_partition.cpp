// ReusePartition (workloads/analysis/reuse_partition): the previous access of every block
// reference, checked by hand on a tiny case and against a separate replay with a
// std::unordered_map on random references, including one bucket holding many chunks.
#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include <doctest/doctest.h>

#include "workloads/analysis/reuse_partition.hpp"

using namespace kvsim::workload;

namespace {

constexpr std::uint32_t kFirst = ReusePartition::kFirstAccess;

struct Reference {
  std::uint64_t block;
  std::uint32_t request;
};

struct Expected {
  std::vector<std::uint32_t> previous;
  std::uint64_t unique = 0;
  std::vector<std::uint32_t> reuses;  // sorted
};

// The straightforward one-pass replay the partition must agree with.
Expected replay(const std::vector<Reference>& refs) {
  Expected e;
  std::unordered_map<std::uint64_t, std::uint32_t> last, accesses;
  for (const Reference& r : refs) {
    const auto it = last.find(r.block);
    e.previous.push_back(it == last.end() ? kFirst : it->second);
    last[r.block] = r.request;
    ++accesses[r.block];
  }
  e.unique = last.size();
  for (const auto& [block, n] : accesses)
    if (n >= 2) e.reuses.push_back(n - 1);
  std::sort(e.reuses.begin(), e.reuses.end());
  return e;
}

void check(const std::vector<Reference>& refs) {
  ReusePartition partition;
  for (const Reference& r : refs) partition.add(r.block, r.request);
  partition.resolve();
  const Expected e = replay(refs);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < refs.size(); ++i)
    if (partition.previous() != e.previous[i]) ++wrong;
  CHECK(wrong == 0);
  CHECK(partition.unique_blocks() == e.unique);
  std::vector<std::uint32_t> reuses = partition.take_reuses();
  std::sort(reuses.begin(), reuses.end());
  CHECK(reuses == e.reuses);
}

// Inverse of ReusePartition::mix (fmix64): xor-shifts by 33 undo themselves, multiplications
// undo by the inverse modulo 2^64 (Newton's iteration doubles the correct low bits).
std::uint64_t inverse(std::uint64_t c) {
  std::uint64_t x = c;
  for (int i = 0; i < 6; ++i) x *= 2 - c * x;
  return x;
}
std::uint64_t unmix(std::uint64_t h) {
  h ^= h >> 33;
  h *= inverse(0xc4ceb9fe1a85ec53ULL);
  h ^= h >> 33;
  h *= inverse(0xff51afd7ed558ccdULL);
  h ^= h >> 33;
  return h;
}

}  // namespace

TEST_CASE("reuse partition: previous accesses of a hand-made sequence") {
  // request: 0    0    1    1    2    3    3
  // block:   A=0  B    A    C    B    A    A
  // previous F    F    0    F    0    1    3   (the repeat of A within request 3 finds 3)
  const std::uint64_t A = 0, B = 7, C = 1ULL << 63;
  ReusePartition p;
  const std::vector<Reference> refs = {{A, 0}, {B, 0}, {A, 1}, {C, 1}, {B, 2}, {A, 3}, {A, 3}};
  for (const Reference& r : refs) p.add(r.block, r.request);
  p.resolve();
  const std::vector<std::uint32_t> expected = {kFirst, kFirst, 0, kFirst, 0, 1, 3};
  for (const std::uint32_t e : expected) CHECK(p.previous() == e);
  CHECK(p.unique_blocks() == 3);
  std::vector<std::uint32_t> reuses = p.take_reuses();
  std::sort(reuses.begin(), reuses.end());
  CHECK(reuses == std::vector<std::uint32_t>{1, 3});  // B twice, A four times
}

TEST_CASE("reuse partition: blocks sharing a recent-table set hand their accesses to the buckets") {
  // A, B, C fall into one two-way set of the recent table (their hashes differ only in high
  // bits). The previous accesses follow from the sequence alone:
  // request:  0  1  1  2  2  3  3  4  5  5
  // block:    A  A  B  C  B  B  C  A  A  B
  // previous  F  0  F  F  1  2  2  1  4  3
  // The paths taken: A1 is answered by the set; B1 takes the empty way; C2 replaces B (not
  // found again, so clean: no record); B2 comes from B's bucket and replaces C; B3 is
  // answered by the set; C3 finds both ways hot and displaces A, the less recent, whose
  // record tells A's bucket of A1; A4 (from the bucket, which knows A1) replaces C; A5 and
  // B5 are answered by the set, and the final records carry them to the buckets.
  const std::uint64_t A = unmix(5), B = unmix(5 + (std::uint64_t{1} << 40)), C = unmix(5 + (std::uint64_t{1} << 63));
  const std::uint64_t sets = ReusePartition::kRecentSets - 1;
  REQUIRE((ReusePartition::mix(B) & sets) == (ReusePartition::mix(A) & sets));
  REQUIRE((ReusePartition::mix(C) & sets) == (ReusePartition::mix(A) & sets));
  ReusePartition p;
  const std::vector<Reference> refs = {{A, 0}, {A, 1}, {B, 1}, {C, 2}, {B, 2}, {B, 3}, {C, 3}, {A, 4}, {A, 5}, {B, 5}};
  for (const Reference& r : refs) p.add(r.block, r.request);
  p.resolve();
  const std::vector<std::uint32_t> expected = {kFirst, 0, kFirst, kFirst, 1, 2, 2, 1, 4, 3};
  for (const std::uint32_t e : expected) CHECK(p.previous() == e);
  CHECK(p.unique_blocks() == 3);
  std::vector<std::uint32_t> reuses = p.take_reuses();
  std::sort(reuses.begin(), reuses.end());
  CHECK(reuses == std::vector<std::uint32_t>{1, 3, 3});  // C twice, A and B four times each
}

TEST_CASE("reuse partition: an empty partition resolves to nothing") {
  ReusePartition p;
  p.resolve();
  CHECK(p.unique_blocks() == 0);
  CHECK(p.take_reuses().empty());
}

TEST_CASE("reuse partition: agrees with a map replay on random references") {
  std::mt19937_64 rng(9);
  std::vector<Reference> refs;
  std::uint32_t request = 0;
  // Hot blocks (reused often, mostly answered by the recent table), a long tail that keeps
  // displacing them and fresh blocks, over 200 k references: every bucket gets several
  // chunks and records.
  std::uniform_int_distribution<std::uint64_t> hot(1, 500), warm(1, 50000);
  for (std::size_t i = 0; i < 200000; ++i) {
    if (rng() % 8 == 0) ++request;
    const std::uint64_t kind = rng() % 3;
    const std::uint64_t block = kind == 0 ? hot(rng) : kind == 1 ? warm(rng) * 1000003 : rng();
    refs.push_back({block, request});
  }
  check(refs);
}

TEST_CASE("reuse partition: one bucket holding many chunks and mostly distinct blocks") {
  // Every block hashes to bucket 0 (the top bits of its mix are 0), so that bucket takes
  // 30 k references: its chunks grow to the largest size and repeat, and its table fills
  // with mostly distinct blocks (its probes wrap around the end).
  std::mt19937_64 rng(17);
  std::vector<Reference> refs;
  const auto in_bucket_0 = [](std::uint64_t n) { return unmix(n & (~std::uint64_t{0} >> ReusePartition::kBucketBits)); };
  const std::uint64_t top_bits = ReusePartition::mix(in_bucket_0(12345)) >> (64 - ReusePartition::kBucketBits);
  REQUIRE(top_bits == 0);
  for (std::uint32_t i = 0; i < 30000; ++i) {
    const std::uint64_t n = rng() % 4 == 0 ? rng() % 100 + 1 : rng();
    refs.push_back({in_bucket_0(n), i / 3});
    if (i % 7 == 0) refs.push_back({rng(), i / 3});  // other buckets in between
  }
  check(refs);
}
