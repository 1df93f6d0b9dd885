// Partitioned previous-access resolution; see reuse_partition.hpp.
#include "workloads/analysis/reuse_partition.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>
#include <thread>

namespace kvsim::workload {

namespace {

constexpr std::size_t kSlabBytes = std::size_t{32} << 20;
constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

}  // namespace

ReusePartition::ReusePartition() : recent_(kRecentSets, RecentSet{}) {}

ReusePartition::~ReusePartition() {
  for (const Slab& slab : slabs_) munmap(slab.base, slab.bytes);
}

void* ReusePartition::allocate(std::size_t bytes) {
  bytes = (bytes + 63) & ~std::size_t{63};
  if (slabs_.empty() || slab_used_ + bytes > slabs_.back().bytes) {
    const std::size_t size = std::max(kSlabBytes, bytes);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    // Appends scatter over kBuckets chunks: 2 MiB pages keep their TLB entries few.
    if (size >= kHugePageBytes) (void)madvise(p, size, MADV_HUGEPAGE);  // advice only
    slabs_.push_back({static_cast<char*>(p), size});
    slab_used_ = 0;
  }
  void* p = slabs_.back().base + slab_used_;
  slab_used_ += bytes;
  return p;
}

void ReusePartition::new_chunk(std::size_t b) {
  std::vector<Chunk>& bucket = buckets_[b];
  const std::uint32_t capacity = bucket.empty() ? kFirstChunk : std::min(kMaxChunk, 2 * bucket.back().capacity);
  auto* entries = static_cast<Entry*>(allocate(capacity * sizeof(Entry)));
  bucket.push_back({entries, capacity, capacity, 0});
  next_[b] = entries;
  room_[b] = capacity;
}

void ReusePartition::new_stream_chunk(std::vector<void*>& stream, std::size_t element_bytes) {
  stream.push_back(allocate(kStreamChunk * element_bytes));
}

// Moves the cursor to the next chunk of the bucket that holds answers, if any.
void ReusePartition::next_answers(std::size_t b) {
  Cursor& c = cursors_[b];
  const std::vector<Chunk>& bucket = buckets_[b];
  while (c.next == c.end && c.chunk + 1 < bucket.size()) {
    const Chunk& chunk = bucket[++c.chunk];
    c.next = answers_of(chunk);
    c.end = c.next + chunk.answers;
  }
}

void ReusePartition::resolve() {
  // The recent table's unrecorded accesses go to their buckets like displacements.
  for (const RecentSet& set : recent_)
    for (const Recent& recent : set.way)
      if (recent.state > 1) push_record(recent);
  std::vector<RecentSet>().swap(recent_);
  // Buckets are independent: the second half is resolved on a second thread (the reader
  // that fed add() is done by now, so its core is free). Each half counts its own blocks
  // and reuses, joined in bucket order, so the result does not depend on the timing.
  const auto resolve_range = [this](std::size_t first, std::size_t last, Counts& counts) {
    std::vector<Slot> table;
    for (std::size_t b = first; b < last; ++b) {
      std::vector<Chunk>& bucket = buckets_[b];
      if (bucket.empty()) continue;
      bucket.back().size -= room_[b];
      resolve_bucket(b, table, counts);
      cursors_[b] = {answers_of(bucket[0]), answers_of(bucket[0]) + bucket[0].answers, 0};
      next_answers(b);
    }
  };
  Counts low, high;
  std::thread second(resolve_range, kBuckets / 2, kBuckets, std::ref(high));
  try {
    resolve_range(0, kBuckets / 2, low);
  } catch (...) {
    second.join();
    throw;
  }
  second.join();
  unique_ = low.unique + high.unique;
  reuses_ = std::move(low.reuses);
  reuses_.insert(reuses_.end(), high.reuses.begin(), high.reuses.end());
}

// The table holds the bucket's blocks, at most 70 % full: a bucket has no more blocks than
// entries, so it never grows. One table serves every bucket in turn (cleared, not freed).
void ReusePartition::resolve_bucket(std::size_t b, std::vector<Slot>& table, Counts& counts) {
  std::size_t entries = 0;
  for (const Chunk& chunk : buckets_[b]) entries += chunk.size;
  std::size_t capacity = 16;
  while (capacity * 7 < entries * 10) capacity *= 2;
  table.assign(capacity, Slot{0, 0, 0});
  const std::size_t mask = capacity - 1;
  std::size_t blocks = 0;

  const auto find = [&](std::uint64_t block) -> Slot& {
    std::size_t s = static_cast<std::size_t>(mix(block)) & mask;
    while (table[s].accesses != 0 && table[s].block != block) s = (s + 1) & mask;
    return table[s];
  };
  const auto add_accesses = [](Slot& slot, std::uint64_t n) {
    slot.accesses = static_cast<std::uint32_t>(std::min<std::uint64_t>(slot.accesses + n, std::numeric_limits<std::uint32_t>::max()));
  };
  Slot* recorded = nullptr;  // the block of a record whose second half comes next
  for (Chunk& chunk : buckets_[b]) {
    // Bytes, through memcpy: answers and entries share the storage.
    auto* const bytes = reinterpret_cast<unsigned char*>(chunk.entries);
    std::uint32_t answers = 0;
    for (std::uint32_t i = 0; i < chunk.size; ++i) {
      Entry entry;
      std::memcpy(&entry, bytes + i * sizeof(Entry), sizeof(Entry));
      if (recorded) {  // {accesses not seen, last of them}; the block is known here
        add_accesses(*recorded, entry.block);
        recorded->last = entry.request;
        recorded = nullptr;
        continue;
      }
      Slot* slot = &find(entry.block);
      std::uint32_t answer = kFirstAccess;
      if (slot->accesses == 0) {
        ++blocks;
        slot->block = entry.block;
      } else {
        answer = slot->last;
      }
      if (entry.request == kRecordMark) {  // a record's block was referenced here before
        recorded = slot;
        continue;
      }
      std::memcpy(bytes + answers * sizeof answer, &answer, sizeof answer);
      ++answers;
      slot->last = entry.request;
      add_accesses(*slot, 1);
    }
    chunk.answers = answers;
  }
  counts.unique += blocks;
  for (std::size_t s = 0; s < capacity; ++s)
    if (const Slot& slot = table[s]; slot.accesses >= 2) counts.reuses.push_back(slot.accesses - 1);
}

}  // namespace kvsim::workload
