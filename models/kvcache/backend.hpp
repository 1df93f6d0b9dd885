// What an instance's engine sees of the KV tiers below its HBM (host DRAM, local SSD, a
// remote pool). The engine stays free of SimGrid: it asks where the rest of a prompt's
// prefix lives, whether loading it beats recomputing it, and reports evictions and
// completions; the simulator implements this interface (sim/engine/kv_tiers.cpp) by asking
// the pure TierHierarchy (tier_hierarchy.hpp) for Moves and running them as transfers, and
// calls ServingEngine::load_done when a load ends.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/kvcache/block_manager.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

// A run of consecutive prefix blocks [first, first + count) found in one lower tier.
struct TierRun {
  int tier = 0;  // index of the tier level below HBM (0 = the nearest)
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  // Consecutive runs covering ids[from, from + n) for the largest n <= max_blocks such that
  // every block is resident in some lower tier (the prefix continues below HBM).
  virtual std::vector<TierRun> match(std::span<const workload::BlockId> ids, std::uint32_t from,
                                     std::uint32_t max_blocks) = 0;
  // Whether to load runs rather than recompute them, which would take recompute_seconds
  // (the configured load_vs_recompute rule, with load times from the current link state).
  virtual bool should_load(const std::vector<TierRun>& runs, double recompute_seconds) = 0;
  // An admission committed: looked_up prompt blocks missed HBM, runs were found below, and
  // were loaded or not (for per-tier hit and miss counters).
  virtual void note_admission(const std::vector<TierRun>& runs, std::uint32_t looked_up, bool loaded) = 0;
  // Starts loading runs for request_id; the simulator calls ServingEngine::load_done later.
  virtual void start_load(std::uint64_t request_id, std::uint16_t category, std::span<const workload::BlockId> ids,
                          const std::vector<TierRun>& runs) = 0;
  // Cached blocks that HBM just evicted (demotion candidates), in eviction order.
  virtual void evicted(std::span<const EvictedBlock> blocks) = 0;
  // A request of category finished; its full prompt blocks are ids (write-through).
  virtual void completed(std::span<const workload::BlockId> ids, std::uint16_t category) = 0;
};

}  // namespace kvsim::kvcache
