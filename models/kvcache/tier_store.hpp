// One lower KV tier (host DRAM, local SSD, remote pool) as a set of block identities with a
// capacity in blocks and LRU replacement. It holds no data, only which prefix blocks are
// resident, so the simulator can decide what to load and what to write.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

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
  TierStore(std::string name, std::uint64_t capacity_blocks);

  const std::string& name() const { return name_; }
  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t occupancy() const { return index_.size(); }
  bool contains(workload::BlockId id) const { return index_.contains(id); }

  // Marks id most recently used.
  void touch(workload::BlockId id);
  // Makes id resident (most recently used); returns the identities evicted to make room,
  // oldest first. Inserting a resident id only touches it.
  std::vector<workload::BlockId> insert(workload::BlockId id);
  void erase(workload::BlockId id);

  TierCounters& counters() { return counters_; }
  const TierCounters& counters() const { return counters_; }

 private:
  struct Node {
    workload::BlockId id;
    std::uint32_t prev, next;
  };
  static constexpr std::uint32_t kNone = ~0u;
  void unlink(std::uint32_t n);
  void push_front(std::uint32_t n);

  std::string name_;
  std::uint64_t capacity_;
  std::unordered_map<workload::BlockId, std::uint32_t> index_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> free_nodes_;
  std::uint32_t head_ = kNone, tail_ = kNone;  // head = most recent, tail = next victim
  TierCounters counters_;
};

}  // namespace kvsim::kvcache
