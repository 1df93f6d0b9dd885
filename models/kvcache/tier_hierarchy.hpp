// The KV tiers below HBM as pure policy: which tier holds which prefix block, what each
// tier admits, where HBM's and each tier's evictions are demoted, what a load moves and
// whether loading beats recomputing. It receives `now` and plain inputs (lookups, evicted
// blocks, finished prompts, load completions) and answers with plain Moves; it never starts
// a transfer. The simulator (sim/engine/kv_tiers.cpp) executes the Moves as transfers and
// reports when a load is whole; unit tests read the Moves directly.
//
// One hierarchy serves a whole run: a store per configured tier and location (node DRAM,
// node SSD, per-instance DRAM, the cluster's remote pool), shared by the instances it
// serves. Calls name the instance they are made for.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/kvcache/admission/admission.hpp"
#include "models/kvcache/backend.hpp"
#include "models/kvcache/tier_store.hpp"

namespace kvsim::kvcache {

// Tier levels below HBM, nearest first (the index of TierRun::tier).
enum class TierKind : int { dram = 0, ssd = 1, remote = 2 };
inline constexpr int kTierKinds = 3;
inline constexpr const char* kTierNames[kTierKinds] = {"dram", "ssd", "remote"};
// The tier of a Move's end that is the instance's HBM (its location is a GPU shard).
inline constexpr int kHbm = -1;

// Throws std::invalid_argument for a name that is not a tier kind.
TierKind tier_kind(const std::string& name);

enum class MoveKind {
  load,           // blocks copied up into HBM; the tier keeps them
  place,          // blocks moved up into HBM out of an exclusive tier, which drops them
  demote,         // blocks evicted from the tier above (or HBM) written into this one
  write_through,  // a finished request's prompt blocks written from HBM into this tier
};

// One transfer the hierarchy asks for. An end in HBM is one GPU shard of the instance
// (location = shard index, bytes = that shard's share); a DRAM or SSD end is its store's
// location (node, or instance for per-instance DRAM); a remote end is the memory server
// that holds the run (location = server index).
struct Move {
  static constexpr std::uint64_t kNoRequest = std::numeric_limits<std::uint64_t>::max();
  MoveKind kind = MoveKind::load;
  int from_tier = kHbm;
  int from_location = 0;
  int to_tier = kHbm;
  int to_location = 0;
  std::uint64_t blocks = 0;  // blocks whose bytes (or shard of them) this move carries
  double bytes = 0;          // B
  std::uint64_t request = kNoRequest;  // the load it belongs to; kNoRequest for writes
};

enum class LoadRule { auto_choice, load, recompute };
// Throws std::invalid_argument for a name other than "auto", "load" or "recompute".
LoadRule load_rule(const std::string& name);

// One configured tier below HBM.
struct TierLevelSpec {
  TierKind kind = TierKind::dram;
  std::uint64_t capacity_blocks = 0;  // per store
  std::string scope = "node";         // "node", "instance" (dram) or "cluster" (remote)
  std::string admission = "demotion";
  bool exclusive = false;
  EvictionChoice eviction;
  double read_bandwidth = 0;    // B/s, ssd
  int servers = 0;              // remote memory servers
  double server_bandwidth = 0;  // B/s, remote
  double server_latency = 0;    // s, remote
};

// Everything the hierarchy knows of the run, as plain values.
struct HierarchySpec {
  std::vector<TierLevelSpec> levels;  // any order; at most one per kind
  std::vector<int> instance_nodes;    // node of each instance
  int nodes = 1;
  int tp = 1;               // GPUs (shards) per instance
  double block_bytes = 0;   // KV bytes of one block, all shards together
  LoadRule rule = LoadRule::auto_choice;
  // Link figures of the load-time estimate (nominal; scaled by transfer_efficiency).
  double pcie_bandwidth = 0;  // B/s per GPU
  double pcie_latency = 0;    // s
  double nic_bandwidth = 0;   // B/s per GPU
  double nic_latency = 0;     // s
  double transfer_efficiency = 1;
  // Heterogeneous runs: per instance tp and link figures (its GPU and node cards); empty:
  // every instance has the tp and figures above.
  struct InstanceLinks {
    int tp = 1;
    double pcie_bandwidth = 0, pcie_latency = 0, nic_bandwidth = 0, nic_latency = 0;
  };
  std::vector<InstanceLinks> instance_links;
  InstanceLinks links(int instance) const {
    if (!instance_links.empty()) return instance_links[std::size_t(instance)];
    return {tp, pcie_bandwidth, pcie_latency, nic_bandwidth, nic_latency};
  }
};

class TierHierarchy {
 public:
  explicit TierHierarchy(HierarchySpec spec);

  struct Store {
    std::unique_ptr<TierStore> store;
    std::unique_ptr<admission::AdmissionRule> admission;  // shared by the instances it serves
    TierKind kind;
    int location;       // node index, instance index (dram per instance) or 0 (remote)
    std::string scope;  // "node", "instance" or "cluster"
  };
  // Nearest kind first, then by location (the order of /tiers).
  const std::vector<Store>& stores() const { return stores_; }
  const HierarchySpec& spec() const { return spec_; }
  // Index into stores() of the store of each kind serving instance, -1 where absent.
  std::array<int, kTierKinds> serving(int instance) const { return serving_[std::size_t(instance)]; }

  // Consecutive runs covering ids[from, from + n) for the largest n <= max_blocks such that
  // every block is resident in some tier serving instance, the nearest tier holding it.
  std::vector<TierRun> match(int instance, std::span<const workload::BlockId> ids, std::uint32_t from,
                             std::uint32_t max_blocks) const;
  // Expected seconds to load runs into instance given its loads in flight from each tier:
  // the slowest tier's path, where DRAM and SSD runs share the GPUs' PCIe links and an SSD
  // run shares the drive with every load in flight from it (the node's other instances too).
  double estimate_load_time(int instance, const std::vector<TierRun>& runs) const;
  bool should_load(int instance, const std::vector<TierRun>& runs, double recompute_seconds) const;
  // An admission committed: looked_up blocks missed HBM, runs were found below, loaded or not.
  void note_admission(int instance, const std::vector<TierRun>& runs, std::uint32_t looked_up, bool loaded);
  // Loads runs (of ids) for request into instance's HBM: one move per run and GPU shard.
  // Blocks of an exclusive tier leave it; the others count as used at now.
  std::vector<Move> load(int instance, std::uint64_t request, std::uint16_t category,
                         std::span<const workload::BlockId> ids, const std::vector<TierRun>& runs, double now);
  // Every move of request's load has completed.
  void load_finished(int instance, std::uint64_t request);
  // HBM of instance evicted blocks (in eviction order): demotion down the chain.
  std::vector<Move> evicted(int instance, std::span<const EvictedBlock> blocks, double now);
  // A request of category finished on instance; ids are its full prompt blocks.
  std::vector<Move> completed(int instance, std::span<const workload::BlockId> ids, std::uint16_t category,
                              double now);

 private:
  // Offers blocks to tier `kind` of instance (from `from`, kHbm or a tier above) and appends
  // the moves; what the tier evicts is offered to the next tier down, recursively.
  void admit(int instance, int kind, std::span<const EvictedBlock> blocks, int from, bool write_through, double now,
             std::vector<Move>& moves);
  int next_level(int instance, int kind) const;
  TierStore& store(int instance, int kind) const {
    return *stores_[std::size_t(serving_[std::size_t(instance)][std::size_t(kind)])].store;
  }
  // Location of a tier's end of a move of the run starting with block first.
  int location_of(int instance, int kind, workload::BlockId first) const;
  // Appends one move per GPU shard of instance between HBM and (tier, location).
  void add_shards(std::vector<Move>& moves, int instance, MoveKind kind, bool to_hbm, int tier, int location,
                  std::uint64_t blocks, double bytes, std::uint64_t request) const;

  HierarchySpec spec_;
  std::array<const TierLevelSpec*, kTierKinds> levels_{};  // null where the kind is absent
  std::vector<Store> stores_;
  std::vector<std::array<int, kTierKinds>> serving_;          // [instance]
  std::vector<std::array<int, kTierKinds>> in_flight_;        // [instance] loads per tier (contention proxy)
  std::vector<int> store_loads_;                              // [store] loads in flight from it, all instances
  std::vector<std::unordered_map<std::uint64_t, std::vector<TierRun>>> loads_;  // [instance] in flight
  std::array<std::vector<EvictedBlock>, kTierKinds> demoted_;  // [tier kind] scratch of admit
};

}  // namespace kvsim::kvcache
