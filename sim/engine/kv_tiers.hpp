// The KV tiers below one instance's HBM, as the engine sees them (kvcache::KvBackend),
// implemented with the cluster's tier stores and SimGrid transfers:
//   dram   — the node CPU host's memory; loads are PCIe Comms host → each of the tp GPUs;
//   ssd    — a disk of the node's CPU host; loads are a disk read Io, then the PCIe Comms;
//   remote — memory servers on the fabric; loads are Comms server → GPUs over the NICs.
// Writes (demotion of evicted blocks, write-through of finished prompts) go the other way.
// Every move is aggregated: one activity per request and tier (per GPU for PCIe copies),
// not per block.
#pragma once

#include <array>

#include "models/kvcache/backend.hpp"
#include "sim/engine/cluster.hpp"

namespace kvsim::engine {

class KvTiers final : public kvcache::KvBackend {
 public:
  // stores[k] is the store of tier kind k (0 dram, 1 ssd, 2 remote) serving this instance,
  // or -1 when that tier is absent.
  KvTiers(Cluster& cluster, Instance& instance, std::array<int, 3> stores);

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
  // Called by the instance when every transfer of request_id's load has completed.
  void load_finished(std::uint64_t request_id);

  static constexpr const char* kKinds[3] = {"dram", "ssd", "remote"};

 private:
  // Writes ids into tier `kind` if its admission rule takes them (write_through: a finished
  // request's prompt; otherwise blocks demoted from from_kind, -1 = HBM), and demotes what
  // the tier evicts to the next one down.
  void admit(int kind, std::span<const kvcache::EvictedBlock> blocks, int from_kind, bool write_through);
  int next_tier(int kind) const;
  const config::TierSpec& spec(int kind) const;
  // Starts copies of bytes from host `from` to every GPU of the instance (or back).
  void copy_to_gpus(simgrid::s4u::Host* from, double bytes, std::uint64_t request);
  void copy_from_gpus(simgrid::s4u::Host* to, double bytes);
  simgrid::s4u::Host* remote_server(workload::BlockId first) const;
  void start(Transfer transfer);

  Cluster& cluster_;
  Instance& instance_;
  std::array<int, 3> stores_;
  std::array<int, 3> in_flight_{};  // loads in flight per tier kind, as a contention proxy
  std::unordered_map<std::uint64_t, std::vector<kvcache::TierRun>> load_kinds_;  // loads in flight
};

}  // namespace kvsim::engine
