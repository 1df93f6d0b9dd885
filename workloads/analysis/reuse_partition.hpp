// The previous access of every block reference of a trace, found by partitioning the
// references instead of probing one big hash table per reference (trace_stats' ideal-cache
// analysis).
//
// Why: a million-request trace has ~59 M block references to ~25 M distinct blocks; one
// table of all blocks is a gigabyte, and each reference probing it at random is a cache and
// TLB miss (with huge pages and prefetching still ~60 ns per reference, plus a second of
// page clearing). Here:
//   1. add() first looks the block up in a small two-way set-associative table of recently
//      accessed blocks (2 x kRecentSets entries, 2 MiB, mostly cache-resident). A block found there was accessed last by
//      the request it records, which is the answer; hot blocks (a few percent of the blocks
//      take most of the hits) are answered this way at once and cost 6 bytes of sequential
//      stream. Every other reference goes to one of kBuckets buckets chosen by the high bits
//      of a hash of the block (a sequential append per bucket, 12 bytes). A block displaced
//      from the recent table after being found there leaves a record in its bucket (the
//      accesses the bucket did not see and the last of them), so the bucket stays exact.
//   2. resolve() walks each bucket in time order with a small table of that bucket's blocks
//      only, which stays in the L2 cache (~12 k distinct blocks per bucket on that trace),
//      and writes the answer of every reference compactly over the bucket's storage.
//   3. previous() hands the answers back in the original time order, reading each bucket's
//      answers sequentially (the source of each reference is remembered in a 2-byte stream).
//
// Memory: 14 bytes per reference answered by a bucket (8 for the identity, 4 for the
// request, 2 for its source), 6 per reference answered at once, 24 per record, plus at most
// one partly filled chunk per bucket and the recent table (2 MiB), on 2 MiB pages where the
// kernel allows. This scales with references, not with distinct blocks as the table did
// (23-46 bytes per block): the whole command peaks at 815 MiB instead of 1.2 GiB on the to-B
// benchmark trace, where most blocks are seen once and hits go to few blocks; a trace
// whose many blocks are each reused far apart can take more.
//
// The answers are exact and independent of the table and bucket sizes and of the hash; only
// the order of the per-block access counts handed out by take_reuses() depends on them
// (callers sum or select over them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "workloads/analysis/u64_map.hpp"

namespace kvsim::workload {

class ReusePartition {
 public:
  // previous() of a reference whose block was not accessed before.
  static constexpr std::uint32_t kFirstAccess = std::numeric_limits<std::uint32_t>::max();

  ReusePartition();
  ~ReusePartition();
  ReusePartition(const ReusePartition&) = delete;
  ReusePartition& operator=(const ReusePartition&) = delete;

  // A reference to block by request (requests in non-decreasing order; request <
  // kFirstAccess). Only before resolve().
  void add(std::uint64_t block, std::uint32_t request) {
    const std::uint64_t hash = mix(block);
    Recent* const way = recent_[hash & (kRecentSets - 1)].way;
    std::uint16_t source = kAnsweredAtOnce;
    Recent* const found = way[0].state != 0 && way[0].block == block   ? &way[0]
                          : way[1].state != 0 && way[1].block == block ? &way[1]
                                                                       : nullptr;
    if (found) {
      push_answer(found->last);
      found->last = request;
      if (found->state < std::numeric_limits<std::uint32_t>::max()) ++found->state;
      if (found == &way[1]) std::swap(way[0], way[1]);  // the more recent first
    } else {
      // Most blocks are never accessed again: a new block takes the place of an empty or
      // clean one (not found again since it came in) before that of a hot one.
      Recent& victim = way[1].state <= 1 ? way[1] : way[0].state <= 1 ? way[0] : way[1];
      if (victim.state > 1) push_record(victim);
      victim = {block, request, 1};
      source = bucket_of(hash);
      push_entry(source, {block, request});
    }
    if (added_ % kStreamChunk == 0) new_stream_chunk(source_, sizeof(std::uint16_t));
    static_cast<std::uint16_t*>(source_.back())[added_ % kStreamChunk] = source;
    ++added_;
  }

  // Hints the cache to load block's recent-table slot: add() of a block a few references
  // later then finds it there instead of waiting for memory.
  void prefetch(std::uint64_t block) const { __builtin_prefetch(&recent_[mix(block) & (kRecentSets - 1)]); }

  // Finds the previous access of every reference added (on two threads); afterwards
  // previous() may be called.
  void resolve();

  // The request that accessed the block of the next reference (in the order of add()) last
  // before it, or kFirstAccess. Call once per reference added, after resolve().
  std::uint32_t previous() {
    const std::uint16_t source = static_cast<const std::uint16_t*>(source_[read_ / kStreamChunk])[read_ % kStreamChunk];
    ++read_;
    if (source == kAnsweredAtOnce) {
      const std::uint32_t answer = static_cast<const std::uint32_t*>(at_once_[read_at_once_ / kStreamChunk])[read_at_once_ % kStreamChunk];
      ++read_at_once_;
      return answer;
    }
    Cursor& c = cursors_[source];
    const std::uint32_t answer = *c.next++;
    if (c.next == c.end) next_answers(source);
    return answer;
  }

  // Valid after resolve().
  std::uint64_t unique_blocks() const { return unique_; }
  // For every block accessed at least twice, its accesses beyond the first (saturating at
  // 2^32 - 2), in an unspecified order. After resolve(); once.
  std::vector<std::uint32_t> take_reuses() { return std::move(reuses_); }

  static constexpr unsigned kBucketBits = 11;
  static constexpr std::size_t kBuckets = std::size_t{1} << kBucketBits;
  static constexpr std::size_t kRecentSets = std::size_t{1} << 16;  // of two blocks each

  // fmix64 (as U64Map): the high bits (bucket) and the low bits (recent-table and
  // bucket-table slots) are all spread.
  static std::uint64_t mix(std::uint64_t key) { return fmix64(key); }
  static std::uint16_t bucket_of(std::uint64_t hash) { return static_cast<std::uint16_t>(hash >> (64 - kBucketBits)); }

 private:
  // An entry of a bucket, 12 bytes, packed so that a bucket is one write stream: a reference
  // (block, request), or the two halves of a record: {block, kRecordMark} then
  // {accesses the bucket did not see, the last of them}.
  struct __attribute__((packed)) Entry {
    std::uint64_t block;
    std::uint32_t request;
  };
  static constexpr std::uint32_t kRecordMark = kFirstAccess;  // never a request
  static constexpr std::uint16_t kAnsweredAtOnce = 0xffff;    // never a bucket
  static_assert(kBuckets <= kAnsweredAtOnce);

  // A block of the recent table: state 0 = empty, otherwise 1 + its accesses since it came
  // in (saturating); `last` accessed it last. Two per set, in one half cache line.
  struct Recent {
    std::uint64_t block;
    std::uint32_t last;
    std::uint32_t state;
  };
  struct alignas(32) RecentSet {
    Recent way[2];
  };

  // Part of a bucket's storage. Chunks of a bucket grow from kFirstChunk to kMaxChunk
  // entries, so that a small trace does not touch kBuckets full chunks and a large one
  // wastes at most one partial chunk per bucket. resolve() writes the answers of the
  // chunk's references as 4-byte words from its start, over entries already read (word k
  // of the k-th reference, k <= i for entry i, ends at byte 4k + 4 <= 12i + 4, inside entry
  // i already read): previous() then reads a third of the bytes the entries took.
  struct Chunk {
    Entry* entries;
    std::uint32_t size;     // entries in use (the last chunk of a bucket: set by resolve())
    std::uint32_t capacity;
    std::uint32_t answers;  // references among the entries (set by resolve())
  };
  static const std::uint32_t* answers_of(const Chunk& chunk) { return reinterpret_cast<const std::uint32_t*>(chunk.entries); }
  struct Cursor {
    const std::uint32_t* next = nullptr;
    const std::uint32_t* end = nullptr;
    std::size_t chunk = 0;
  };
  static constexpr std::uint32_t kFirstChunk = 64;
  static constexpr std::uint32_t kMaxChunk = 4096;
  static constexpr std::size_t kStreamChunk = std::size_t{1} << 16;

  // A block's state in the bucket being resolved; accesses == 0 marks an empty slot.
  struct Slot {
    std::uint64_t block;
    std::uint32_t last;
    std::uint32_t accesses;
  };

  void push_entry(std::uint16_t b, Entry entry) {
    if (room_[b] == 0) new_chunk(b);
    --room_[b];
    *next_[b]++ = entry;
  }
  void push_record(const Recent& recent) {
    const std::uint16_t b = bucket_of(mix(recent.block));
    push_entry(b, {recent.block, kRecordMark});
    push_entry(b, {recent.state - 1, recent.last});
  }
  void push_answer(std::uint32_t answer) {
    if (answered_at_once_ % kStreamChunk == 0) new_stream_chunk(at_once_, sizeof(std::uint32_t));
    static_cast<std::uint32_t*>(at_once_.back())[answered_at_once_ % kStreamChunk] = answer;
    ++answered_at_once_;
  }
  void* allocate(std::size_t bytes);
  void new_chunk(std::size_t b);
  void new_stream_chunk(std::vector<void*>& stream, std::size_t element_bytes);
  void next_answers(std::size_t b);
  struct Counts {  // of the buckets one thread resolves
    std::uint64_t unique = 0;
    std::vector<std::uint32_t> reuses;
  };
  void resolve_bucket(std::size_t b, std::vector<Slot>& table, Counts& counts);

  std::vector<RecentSet> recent_;
  std::vector<Chunk> buckets_[kBuckets];
  Entry* next_[kBuckets] = {};         // where the bucket's next entry goes
  std::uint32_t room_[kBuckets] = {};  // entries left in the bucket's last chunk
  std::vector<void*> source_;          // chunks of kStreamChunk uint16: bucket or kAnsweredAtOnce
  std::vector<void*> at_once_;         // chunks of kStreamChunk uint32: answers given by add()
  std::size_t added_ = 0, answered_at_once_ = 0;
  std::size_t read_ = 0, read_at_once_ = 0;
  Cursor cursors_[kBuckets];
  std::uint64_t unique_ = 0;
  std::vector<std::uint32_t> reuses_;

  // Bump allocation from large mappings (advised onto huge pages), released together.
  struct Slab {
    char* base;
    std::size_t bytes;
  };
  std::vector<Slab> slabs_;
  std::size_t slab_used_ = 0;
};

}  // namespace kvsim::workload
