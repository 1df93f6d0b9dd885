// The KV tiers below HBM.
//
// LowerTiers owns every tier store of the run (node DRAM, node SSD, the cluster's remote
// pool, per-instance DRAM) and tells each instance which stores serve it. KvTiers is one
// instance's view of them, as its engine sees it (kvcache::KvBackend), with the moves done
// as transfers through the run's TransferService:
//   dram   — the node CPU host's memory; loads are PCIe Comms host → each of the tp GPUs;
//   ssd    — a drive behind the node's CPU side; loads stream drive → GPUs in one Comm per
//            GPU over the drive's read link and PCIe;
//   remote — memory servers on the fabric; loads are Comms server → GPUs over the NICs.
// Writes (demotion of evicted blocks, write-through of finished prompts) go the other way.
// Every move is aggregated: one transfer per request, tier and GPU shard, not per block.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/kvcache/admission/admission.hpp"
#include "models/kvcache/backend.hpp"
#include "models/kvcache/tier_store.hpp"
#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

// Tier levels below HBM, nearest first (the index of kvcache::TierRun::tier).
enum class TierKind : int { dram = 0, ssd = 1, remote = 2 };
inline constexpr int kTierKinds = 3;
inline constexpr const char* kTierNames[kTierKinds] = {"dram", "ssd", "remote"};

class LowerTiers {
 public:
  // Creates the stores of every configured tier for the run's instances.
  explicit LowerTiers(RunState& run);

  struct Store {
    std::unique_ptr<kvcache::TierStore> store;
    std::unique_ptr<kvcache::admission::AdmissionRule> admission;  // shared by the instances it serves
    TierKind kind;
    int location;       // node index, instance index (dram per instance) or 0 (remote)
    std::string scope;  // "node", "instance" or "cluster"
  };
  const std::vector<Store>& stores() const { return stores_; }
  kvcache::TierStore& store(int index) { return *stores_[std::size_t(index)].store; }
  kvcache::admission::AdmissionRule& admission(int index) { return *stores_[std::size_t(index)].admission; }
  // Index into stores() of the store of each kind serving instance, -1 where absent.
  std::array<int, kTierKinds> serving(int instance) const { return serving_[std::size_t(instance)]; }

 private:
  std::vector<Store> stores_;
  std::vector<std::array<int, kTierKinds>> serving_;
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

  // Expected seconds to load runs given the loads in flight from the same tiers.
  double estimate_load_time(const std::vector<kvcache::TierRun>& runs) const;
  // Called by the driver when every transfer of request_id's load has completed.
  void load_finished(std::uint64_t request_id);

 private:
  struct Level {
    int store = -1;  // index into LowerTiers::stores(), -1 when the tier is absent
    const config::TierSpec* spec = nullptr;
    simgrid::s4u::Host* host = nullptr;  // where its bytes live (remote: per block, see server_for)
  };
  // Writes blocks into tier `kind` if its admission rule takes them (write_through: a
  // finished request's prompt; otherwise blocks demoted from `from`, -1 = HBM), and
  // demotes what the tier evicts to the next one down.
  void admit(int kind, std::span<const kvcache::EvictedBlock> blocks, int from, bool write_through);
  int next_level(int kind) const;
  kvcache::TierStore& store(int kind) { return run_.lower_tiers->store(levels_[std::size_t(kind)].store); }
  simgrid::s4u::Host* host_of(int kind, workload::BlockId first) const;
  // Moves bytes between a host and every GPU of the instance, one shard each.
  void to_gpus(simgrid::s4u::Host* from, double bytes, std::uint64_t request);
  void from_gpus(simgrid::s4u::Host* to, double bytes);

  RunState& run_;
  Instance& instance_;
  std::array<Level, kTierKinds> levels_;
  std::array<int, kTierKinds> in_flight_{};  // loads in flight per tier, as a contention proxy
  std::unordered_map<std::uint64_t, std::vector<kvcache::TierRun>> loads_;  // in flight
};

}  // namespace kvsim::engine
