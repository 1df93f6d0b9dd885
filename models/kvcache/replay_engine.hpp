// The cache behind one timing-free replay (cache_replay.hpp): takes a trace's requests one
// at a time and keeps the counts. Two implementations give identical results: the generic
// one drives any eviction policy through its Policy object (cache_replay.cpp); the recency
// one (recency_replay.hpp) is lru and fifo written for the replay's hot loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/kvcache/cache_replay.hpp"
#include "models/kvcache/flat_index.hpp"

namespace kvsim::kvcache {

class ReplayEngine {
 public:
  virtual ~ReplayEngine() = default;
  // Replays req (the semantics at the top of cache_replay.hpp) and adds to result's counts.
  virtual void run_request(const ReplayTrace& trace, const ReplayTrace::Request& req, ReplayResult& result) = 0;
  virtual std::uint64_t evictions() const = 0;
};

// Step 1 of a request, shared by both caches: the resident slot of each of its blocks
// (kNoSlot when absent) into slots, and the length of the resident prefix. The probes
// are issued a few blocks ahead: on a large cache each is a cache miss.
inline std::uint32_t find_resident(const FlatIndex<eviction::Slot>& index, const workload::BlockId* ids,
                                   std::uint32_t count, std::vector<eviction::Slot>& slots) {
  slots.resize(count);
  std::uint32_t hits = 0;
  bool prefix = true;
  constexpr std::uint32_t kAhead = 8;  // probes in flight (memory-latency bound loop)
  for (std::uint32_t j = 0; j < std::min(kAhead, count); ++j) index.prefetch(ids[j]);
  for (std::uint32_t j = 0; j < count; ++j) {
    if (j + kAhead < count) index.prefetch(ids[j + kAhead]);
    const eviction::Slot* s = index.find(ids[j]);
    slots[j] = s ? *s : eviction::kNoSlot;
    if (prefix && s) ++hits;
    else prefix = false;
  }
  return hits;
}

// Adds a request with `hits` resident leading blocks to result's block and token counts.
inline void count_request(const ReplayTrace& trace, const ReplayTrace::Request& req, std::uint32_t hits,
                          ReplayResult& result) {
  result.requested_blocks += req.count;
  result.hit_blocks += hits;
  const std::uint64_t full = std::uint64_t(trace.block_size) * (req.count ? req.count - 1 : 0);
  result.requested_tokens += req.count ? full + req.last_tokens : 0;
  result.hit_tokens += hits == req.count && req.count ? full + req.last_tokens : std::uint64_t(trace.block_size) * hits;
}

}  // namespace kvsim::kvcache
