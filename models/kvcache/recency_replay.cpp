// lru and fifo replay over a recency log (see recency_replay.hpp).
#include "models/kvcache/recency_replay.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <vector>

namespace kvsim::kvcache {

namespace {

using eviction::kNoSlot;
using eviction::Slot;

// Identity -> slot, by open addressing (linear probing), with lazy removal: an eviction
// leaves its entry behind, and an entry counts only while its slot is resident and still
// holds its identity (nodes_). A lookup reads the slot's node anyway (the hit test needs
// its queue position), so the check is free, and an eviction then touches no index line at
// all: the erase with its backward shift was about 30 % of the loop's instructions on the
// bench trace (callgrind); the sweeps below cost far less, in sequential passes. Each
// identity has at most one entry (an insertion reuses its identity's stale entry), and
// stale entries are swept by rebuilding the table from the resident slots whenever used
// entries reach half of it, i.e. after at least a quarter table of insertions.
class LazyIndex {
 public:
  struct Entry {
    workload::BlockId key;
    Slot slot;  // kNoSlot: an empty entry
  };

  explicit LazyIndex(std::uint64_t expected_resident) { reset(table_size_for(expected_resident)); }

  void prefetch(workload::BlockId id) const { __builtin_prefetch(&entries_[home(id)]); }

  // The entry of id, or the empty entry where it would go. Call has_room first for the
  // entries that may be filled (the table must keep empty entries to stop probes).
  Entry& find(workload::BlockId id) {
    for (std::size_t i = home(id);; i = (i + 1) & mask_) {
      Entry& e = entries_[i];
      if (e.slot == kNoSlot || e.key == id) return e;
    }
  }
  // Claims an empty entry that find returned.
  void fill(Entry& e, workload::BlockId id, Slot slot) {
    e.key = id;
    e.slot = slot;
    ++used_;
  }
  // Whether `more` entries can be filled without passing half load.
  bool has_room(std::uint64_t more) const { return 2 * (used_ + more) <= entries_.size(); }

  // Rebuilds the table from the resident slots (id_of(s) for each s with resident(s)),
  // doubling it while they alone would fill more than a quarter of it, or they and `more`
  // entries to come more than half.
  template <typename Resident, typename IdOf>
  void rebuild(Slot slots, std::uint64_t resident_count, std::uint64_t more, Resident resident, IdOf id_of) {
    std::size_t size = entries_.size();
    while (4 * (resident_count + 1) > size || 2 * (resident_count + more) > size) size *= 2;
    reset(size);
    // The insertions are random reads of the table: their lines are fetched ahead (a free
    // slot's identity is stale, its fetch merely useless).
    constexpr Slot kAhead = 16;
    for (Slot s = 0; s < slots; ++s) {
      if (s + kAhead < slots) prefetch(id_of(s + kAhead));
      if (resident(s)) fill(find(id_of(s)), id_of(s), s);
    }
  }

 private:
  static std::size_t table_size_for(std::uint64_t resident) {
    return std::bit_ceil(std::max<std::uint64_t>(64, 8 * resident));
  }
  std::size_t home(workload::BlockId id) const {
    return static_cast<std::size_t>((id * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  void reset(std::size_t size) {
    entries_.assign(size, Entry{0, kNoSlot});
    mask_ = size - 1;
    shift_ = 64 - std::countr_zero(size);
    used_ = 0;
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t used_ = 0;  // entries filled, live or stale
};

template <bool kMoveOnTouch>
class RecencyReplay final : public ReplayEngine {
 public:
  explicit RecencyReplay(std::uint64_t capacity)
      // Sized for the capacity up front, up to 2^20 blocks (beyond, the table grows with
      // the blocks actually resident): 8 to 16 entries per cached block, so a sweep comes
      // only every 3 capacities of insertions or more. Against 4 to 8, the loop ran 12 %
      // fewer instructions and 10 to 25 % less CPU time at 100K, 1M and 20M tokens on the
      // bench trace (tools/bench_cache_e2e.sh), with a smaller peak RSS than main at 20M.
      : capacity_(capacity), index_(std::min<std::uint64_t>(capacity, 1u << 20)) {}

  std::uint64_t evictions() const override { return evictions_; }

  void run_request(const ReplayTrace& trace, const ReplayTrace::Request& req, ReplayResult& result) override {
    const workload::BlockId* ids = trace.blocks.data() + req.first;
    // One probe per block, head to tail: a block found resident and queued was resident
    // before the request (a hit when all before it were); a new one is inserted at once
    // but enters the queue only below (kPending), so a repeated identity (a broken trace)
    // counts as the generic replay counts it: a miss, then a touch.
    slots_.resize(req.count);
    // Room for every block to be new, checked once per request: the loop below neither
    // sweeps the index nor runs out of free slots.
    if (!index_.has_room(req.count)) rebuild_index(req.count);
    while (free_.size() < req.count) add_slots();
    std::uint32_t hits = 0;
    bool prefix = true;
    for (std::uint32_t j = 0; j < std::min(kProbesAhead, req.count); ++j) index_.prefetch(ids[j]);
    for (std::uint32_t j = 0; j < req.count; ++j) {
      if (j + kProbesAhead < req.count) index_.prefetch(ids[j + kProbesAhead]);
      const workload::BlockId id = ids[j];
      LazyIndex::Entry& e = index_.find(id);
      if (e.slot != kNoSlot) {
        const Node& n = nodes_[e.slot];
        if (n.id == id && n.position != kFree) {  // resident
          slots_[j] = e.slot;
          if (prefix && n.position != kPending) ++hits;
          else prefix = false;
          continue;
        }
      }
      prefix = false;
      const Slot s = free_.back();
      free_.pop_back();
      if (e.slot == kNoSlot) index_.fill(e, id, s);
      else e.slot = s;  // the identity's stale entry
      nodes_[s] = Node{id, kPending};
      slots_[j] = s;
      ++occupancy_;
    }
    count_request(trace, req, hits, result);
    // Tail to head, the order in which the generic replay inserts and touches (the head
    // ends newest): lru queues every block; fifo only those new to the cache, once.
    for (std::uint32_t j = req.count; j-- > 0;) {
      const Slot s = slots_[j];
      if (kMoveOnTouch || nodes_[s].position == kPending) append(s);
    }
    while (occupancy_ > capacity_) {
      free_.push_back(pop_oldest());
      --occupancy_;
      ++evictions_;
    }
    result.peak_resident = std::max(result.peak_resident, occupancy_);
  }

 private:
  // Queue positions are below 2^63; two values above mark a slot that is not queued.
  static constexpr std::uint64_t kFree = ~std::uint64_t{0};         // not resident
  static constexpr std::uint64_t kPending = ~std::uint64_t{0} - 1;  // inserted by this request, not queued yet
  static constexpr std::size_t kAhead = 16;  // queue entries whose slots are fetched ahead
  static constexpr std::uint32_t kProbesAhead = 8;  // index probes in flight

  struct Node {
    workload::BlockId id = 0;
    std::uint64_t position = kFree;  // of the slot's live queue entry, or kFree / kPending
  };

  // Position of queue_[i]: positions only grow (compaction renumbers into fresh ones), so
  // an entry is live exactly when its slot still records its position.
  std::uint64_t position(std::size_t i) const { return base_ + i; }

  void append(Slot s) {
    // Compacting at 4x the resident blocks scans each entry about 0.7 times per append
    // on the bench trace (1.4 times at 2x).
    if (queue_.size() >= 4 * occupancy_ + 4096) compact();
    nodes_[s].position = position(queue_.size());
    queue_.push_back(s);
  }

  Slot pop_oldest() {
    for (;; ++head_) {
      if (head_ + kAhead < queue_.size()) __builtin_prefetch(&nodes_[queue_[head_ + kAhead]]);
      const Slot s = queue_[head_];
      if (nodes_[s].position == position(head_)) {
        nodes_[s].position = kFree;
        ++head_;
        return s;
      }
    }
  }

  // Keeps the live entries, in order, at the front of the queue with fresh positions.
  void compact() {
    const std::uint64_t fresh = position(queue_.size());
    std::size_t kept = 0;
    for (std::size_t i = head_; i < queue_.size(); ++i) {
      if (i + kAhead < queue_.size()) __builtin_prefetch(&nodes_[queue_[i + kAhead]]);
      const Slot s = queue_[i];
      if (nodes_[s].position != position(i)) continue;
      nodes_[s].position = fresh + kept;
      queue_[kept++] = s;
    }
    queue_.resize(kept);
    head_ = 0;
    base_ = fresh;
  }

  void rebuild_index(std::uint64_t more) {
    index_.rebuild(
        static_cast<Slot>(nodes_.size()), occupancy_, more, [&](Slot s) { return nodes_[s].position != kFree; },
        [&](Slot s) { return nodes_[s].id; });
  }

  // Doubles the slots; the new ones go on the free stack, lowest on top.
  void add_slots() {
    const auto s = static_cast<Slot>(nodes_.size());
    if (s == kNoSlot) throw std::length_error("cache replay: more than 2^32 - 1 resident blocks");
    const std::size_t grown = std::min<std::size_t>(std::max<std::size_t>(64, nodes_.size() * 2), kNoSlot);
    nodes_.resize(grown);
    for (std::size_t k = grown; k-- > std::size_t(s);) free_.push_back(static_cast<Slot>(k));
  }

  std::uint64_t capacity_;
  LazyIndex index_;
  std::vector<Node> nodes_;     // by slot
  std::vector<Slot> free_;
  std::vector<Slot> queue_;     // slots from oldest to newest entry; [0, head_) consumed
  std::size_t head_ = 0;
  std::uint64_t base_ = 0;      // position of queue_[0]
  std::vector<Slot> slots_;     // per block of the current request: its resident slot
  std::uint64_t occupancy_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace

std::unique_ptr<ReplayEngine> make_recency_replay(bool move_on_touch, std::uint64_t capacity_blocks) {
  if (move_on_touch) return std::make_unique<RecencyReplay<true>>(capacity_blocks);
  return std::make_unique<RecencyReplay<false>>(capacity_blocks);
}

}  // namespace kvsim::kvcache
