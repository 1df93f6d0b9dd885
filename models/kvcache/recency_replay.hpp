// lru and fifo for the timing-free replay, built for its hot loop; results (hits, evictions,
// peak occupancy) are those of the generic replay driving eviction/lru.cpp or fifo.cpp.
//
// Why not the generic path: with a doubly linked list, each eviction reads the oldest
// block's neighbour, so a run of evictions is a chain of dependent cache misses, and every
// hit unlinks a block between two cold neighbours. Here recency is a log instead: every
// insertion (and, for lru, every hit) appends the slot to a queue and records the position
// in the slot; the oldest candidate is the first queue entry whose slot still records that
// position (later entries of a touched or evicted slot leave its earlier ones stale). A hit
// is then one store and one append, and an eviction reads the queue in order, so the slots
// it will look at next are known and fetched ahead. Stale entries are dropped by compacting
// the queue when it holds more than four times the resident blocks (amortised O(1)).
// The identity index is lazy the same way: an eviction does not touch it; an entry counts
// only while its slot is resident and still holds its identity, and stale entries are swept
// by rebuilding the index from the resident slots at half load (recency_replay.cpp).
#pragma once

#include <cstdint>
#include <memory>

#include "models/kvcache/replay_engine.hpp"

namespace kvsim::kvcache {

// move_on_touch: lru (a hit makes the block the newest); false: fifo (hits change nothing).
std::unique_ptr<ReplayEngine> make_recency_replay(bool move_on_touch, std::uint64_t capacity_blocks);

}  // namespace kvsim::kvcache
