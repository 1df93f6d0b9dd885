// The KV tiers below HBM, as the simulator runs them.
//
// The policy (which tier holds what, admission, demotion, exclusive placement, the
// load-vs-recompute estimate) is kvcache::TierHierarchy, pure code that answers with Moves.
// This file only builds it from the scenario (LowerTiers) and executes its Moves as
// transfers through the run's TransferService (KvTiers, one instance's kvcache::KvBackend):
//   dram   — the node CPU host's memory; loads are PCIe Comms host → each of the tp GPUs;
//   ssd    — a drive behind the node's CPU side; loads stream drive → GPUs in one Comm per
//            GPU over the drive's read link and PCIe;
//   remote — memory servers on the fabric; loads are Comms server → GPUs over the NICs.
// Writes (demotion of evicted blocks, write-through of finished prompts) go the other way.
// Every move is aggregated: one transfer per request, tier and GPU shard, not per block.
#pragma once

#include "models/kvcache/backend.hpp"
#include "models/kvcache/tier_hierarchy.hpp"
#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

using kvcache::kTierKinds;
using kvcache::kTierNames;
using kvcache::TierKind;

// The run's tier hierarchy, built from its scenario and instances.
class LowerTiers : public kvcache::TierHierarchy {
 public:
  explicit LowerTiers(RunState& run);
};

class KvTiers final : public kvcache::KvBackend {
 public:
  KvTiers(RunState& run, Instance& instance);

  std::vector<kvcache::TierRun> match(std::span<const workload::BlockId> ids, std::uint32_t from,
                                      std::uint32_t max_blocks) override;
  bool should_load(const std::vector<kvcache::TierRun>& runs, double recompute_seconds) override;
  void note_admission(const std::vector<kvcache::TierRun>& runs, std::uint32_t looked_up, bool loaded) override;
  void start_load(std::uint64_t request_id, std::uint16_t category, std::span<const workload::BlockId> ids,
                  const std::vector<kvcache::TierRun>& runs) override;
  void evicted(std::span<const kvcache::EvictedBlock> blocks) override;
  void completed(std::span<const workload::BlockId> ids, std::uint16_t category) override;

  // Called by the driver when every transfer of request_id's load has completed.
  void load_finished(std::uint64_t request_id);
  // Expected seconds to load runs into this instance given the loads in flight (routers).
  double estimate_load_time(const std::vector<kvcache::TierRun>& runs) const {
    return hierarchy_.estimate_load_time(instance_.index, runs);
  }

 private:
  // Starts one transfer per move, in order; returns how many were started.
  int execute(const std::vector<kvcache::Move>& moves);
  simgrid::s4u::Host* host(int tier, int location) const;

  RunState& run_;
  Instance& instance_;
  LowerTiers& hierarchy_;
};

}  // namespace kvsim::engine
