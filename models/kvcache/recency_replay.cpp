// lru and fifo replay over a recency log (see recency_replay.hpp).
#include "models/kvcache/recency_replay.hpp"

#include <stdexcept>
#include <vector>

namespace kvsim::kvcache {

namespace {

using eviction::kNoSlot;
using eviction::Slot;

template <bool kMoveOnTouch>
class RecencyReplay final : public ReplayEngine {
 public:
  explicit RecencyReplay(std::uint64_t capacity)
      // The index is sized for twice the capacity (load at most about 1/4 instead of 1/2
      // until it outgrows 2^21 entries): shorter probe runs and backward shifts on erase
      // took 14 % of the loop's instructions and about a quarter of its time on the bench
      // trace, for 16 more bytes per cached block.
      : capacity_(capacity), index_(2 * std::min<std::uint64_t>(capacity, 1u << 20)) {}

  std::uint64_t evictions() const override { return evictions_; }

  void run_request(const ReplayTrace& trace, const ReplayTrace::Request& req, ReplayResult& result) override {
    const workload::BlockId* ids = trace.blocks.data() + req.first;
    // One probe per block, head to tail: a block found with a queue position was resident
    // before the request (a hit when all before it were); a new one is inserted at once
    // but enters the queue only below, so a repeated identity (a broken trace) counts as
    // the generic replay counts it: a miss, then a touch.
    slots_.resize(req.count);
    std::uint32_t hits = 0;
    bool prefix = true;
    for (std::uint32_t j = 0; j < std::min(kProbesAhead, req.count); ++j) index_.prefetch(ids[j]);
    for (std::uint32_t j = 0; j < req.count; ++j) {
      if (j + kProbesAhead < req.count) index_.prefetch(ids[j + kProbesAhead]);
      const Slot fresh = free_.empty() ? grow() : free_.back();
      const auto [held, inserted] = index_.emplace(ids[j], fresh);
      slots_[j] = *held;
      if (inserted) {
        free_.pop_back();
        nodes_[fresh].id = ids[j];
        ++occupancy_;
      }
      if (prefix && !inserted && nodes_[*held].position != kNoPosition) ++hits;
      else prefix = false;
    }
    count_request(trace, req, hits, result);
    // Tail to head, the order in which the generic replay inserts and touches (the head
    // ends newest): lru queues every block; fifo only those new to the cache, once.
    for (std::uint32_t j = req.count; j-- > 0;) {
      const Slot s = slots_[j];
      if (kMoveOnTouch || nodes_[s].position == kNoPosition) append(s);
    }

    // Victims first, removals after (as the generic replay: the removals' index probes are
    // then independent of each other and overlap).
    victims_.clear();
    while (occupancy_ - victims_.size() > capacity_) victims_.push_back(pop_oldest());
    for (const Slot v : victims_) index_.prefetch(nodes_[v].id);
    for (const Slot v : victims_) {
      if (!index_.erase(nodes_[v].id, v))
        throw std::logic_error("recency replay: an evicted block was not in the index");
      free_.push_back(v);
      --occupancy_;
      ++evictions_;
    }
    result.peak_resident = std::max(result.peak_resident, occupancy_);
  }

 private:
  static constexpr std::uint64_t kNoPosition = ~std::uint64_t{0};
  static constexpr std::size_t kAhead = 16;  // queue entries whose slots are fetched ahead
  static constexpr std::uint32_t kProbesAhead = 8;  // index probes in flight

  struct Node {
    workload::BlockId id = 0;
    std::uint64_t position = kNoPosition;  // of the slot's live queue entry; kNoPosition = not resident
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
        nodes_[s].position = kNoPosition;
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

  // Adds slots to the free stack (none left) and returns the next one.
  Slot grow() {
    const auto s = static_cast<Slot>(nodes_.size());
    if (s == kNoSlot) throw std::length_error("cache replay: more than 2^32 - 1 resident blocks");
    const std::size_t grown = std::min<std::size_t>(std::max<std::size_t>(64, nodes_.size() * 2), kNoSlot);
    nodes_.resize(grown);
    for (std::size_t k = grown; k-- > std::size_t(s);) free_.push_back(static_cast<Slot>(k));
    return s;
  }

  std::uint64_t capacity_;
  FlatIndex<Slot> index_;
  std::vector<Node> nodes_;     // by slot
  std::vector<Slot> free_;
  std::vector<Slot> queue_;     // slots from oldest to newest entry; [0, head_) consumed
  std::size_t head_ = 0;
  std::uint64_t base_ = 0;      // position of queue_[0]
  std::vector<Slot> slots_;     // per block of the current request: resident slot or kNoSlot
  std::vector<Slot> victims_;   // of the current request's evictions
  std::uint64_t occupancy_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace

std::unique_ptr<ReplayEngine> make_recency_replay(bool move_on_touch, std::uint64_t capacity_blocks) {
  if (move_on_touch) return std::make_unique<RecencyReplay<true>>(capacity_blocks);
  return std::make_unique<RecencyReplay<false>>(capacity_blocks);
}

}  // namespace kvsim::kvcache
