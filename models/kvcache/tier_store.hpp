// One lower KV tier (host DRAM, local SSD, remote pool) as a set of block identities with a
// capacity in blocks and a pluggable eviction policy (models/kvcache/eviction/, the same
// objects `kvsim cache` replays). It holds no data, only which prefix blocks are resident,
// so the simulator can decide what to load and what to write. Nothing is pinned here: a
// load copies the blocks out at its start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/kvcache/block_manager.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/flat_index.hpp"
#include "models/kvcache/slot_records.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

struct TierCounters {
  std::uint64_t lookup_blocks = 0;   // prompt blocks looked up here (missed every tier above)
  std::uint64_t hit_blocks = 0;      // of which found here
  std::uint64_t loaded_blocks = 0;   // of which loaded into HBM (not recomputed instead)
  double loaded_bytes = 0;           // B
  double written_bytes = 0;          // B
  std::uint64_t inserted_blocks = 0; // blocks written here
  std::uint64_t evicted_blocks = 0;  // blocks dropped for capacity
  std::uint64_t removed_blocks = 0;  // blocks moved up (exclusive placement)
};

class TierStore {
 public:
  TierStore(std::string name, std::uint64_t capacity_blocks, const EvictionChoice& eviction = {});

  const std::string& name() const { return name_; }
  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t occupancy() const { return index_.size(); }
  bool contains(workload::BlockId id) const { return index_.find(id) != nullptr; }
  // Hints that id is about to be looked up (contains, touch, insert, erase): its index
  // line is fetched ahead.
  void prefetch(workload::BlockId id) const { index_.prefetch(id); }

  // A use of a resident block by a request of category at time now; false (and nothing
  // done) when the block is not resident, so callers need not look it up twice.
  bool touch(workload::BlockId id, double now, std::uint16_t category);
  // Makes block resident (a use at time now); appends the blocks evicted to make room to
  // evicted, in eviction order. Inserting a resident block only touches it.
  void insert(const EvictedBlock& block, double now, std::vector<EvictedBlock>& evicted);
  // insert() of a block the caller has just found absent (touch returned false): one
  // probe of the index less per written block, which misses the cache in a large tier.
  void insert_absent(const EvictedBlock& block, double now, std::vector<EvictedBlock>& evicted);
  void erase(workload::BlockId id);

  TierCounters& counters() { return counters_; }
  const TierCounters& counters() const { return counters_; }

 private:
  using Slot = eviction::Slot;
  std::string name_;
  std::uint64_t capacity_;
  SlotRecords records_;  // per slot: identity, position, category (+ the policy's metadata)
  std::unique_ptr<eviction::Policy> policy_;
  FlatIndex<Slot> index_;  // resident identity -> its slot (open addressing: no node per block)
  std::vector<Slot> free_slots_;
  TierCounters counters_;
};

}  // namespace kvsim::kvcache
