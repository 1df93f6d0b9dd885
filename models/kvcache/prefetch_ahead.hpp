// Software pipelining of the per-block loops over the large KV tables (HBM prefix indexes,
// the prefix directory, lower-tier stores): in a cluster run each of these tables is far
// larger than the CPU caches and block identities are hashes, so every probe is a cache
// miss, and a loop that probes block i + 1 only after block i has answered waits for one
// memory latency per block. Issuing the probes of the next blocks ahead (prefetches, which
// change nothing but timing) keeps several misses in flight.
#pragma once

#include <cstddef>

#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/slot_records.hpp"

namespace kvsim::kvcache {

// Blocks whose probes are in flight ahead of the one being handled: enough to cover a
// memory latency with the work of the blocks in between, few enough that the lines stay in
// the CPU caches until used and that little is wasted past where a match stops (a prompt
// is typically tens of blocks). Some loops do next to nothing per block (a release mostly
// decrements a reference count), so with 8 a profile showed them still waiting on the
// lines fetched; 16 covers it.
inline constexpr std::size_t kProbesAhead = 16;

// Calls visit(i) for i = 0, 1, ... n - 1 in order until it returns false, having called
// ahead(j) for every j <= i + kProbesAhead below n before visit(i): ahead issues the
// prefetches of item j, visit handles item i.
template <typename Ahead, typename Visit>
void walk_ahead(std::size_t n, Ahead&& ahead, Visit&& visit) {
  for (std::size_t j = 0; j < n && j < kProbesAhead; ++j) ahead(j);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kProbesAhead < n) ahead(i + kProbesAhead);
    if (!visit(i)) return;
  }
}

// The same for the blocks a cache is about to evict, in two stages since a victim's index
// entry is found through its identity, which lies in its record: fetches the record of the
// victim 2 * kProbesAhead victims ahead, and calls probe(id) with the identity of the one
// kProbesAhead ahead (its record fetched by an earlier call), for probe to prefetch that
// identity's index lines. Called once per victim taken; does nothing for a policy that
// cannot name its next victims (eviction::Policy::upcoming_victim).
template <typename Probe>
void prefetch_victims(const eviction::Policy& policy, const SlotRecords& records, Probe&& probe) {
  records.prefetch(policy.upcoming_victim(2 * kProbesAhead));
  const eviction::Slot near = policy.upcoming_victim(kProbesAhead);
  if (near != eviction::kNoSlot) probe(records.id(near));
}

}  // namespace kvsim::kvcache
