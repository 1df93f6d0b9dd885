#include "sim/engine/kv_tiers.hpp"

#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_tiers, kvsim_engine, "KV tiers below HBM: lookups, loads, demotions");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

kvcache::HierarchySpec hierarchy_spec(const RunState& run) {
  const auto& s = run.scenario;
  kvcache::HierarchySpec spec;
  for (const auto& tier : s.kv.lower) {
    kvcache::TierLevelSpec level;
    level.kind = kvcache::tier_kind(tier.kind);
    level.capacity_blocks = std::uint64_t(tier.capacity / run.block_bytes);
    level.scope = tier.scope;
    level.admission = tier.admission;
    level.exclusive = tier.exclusive;
    level.eviction = tier.eviction;
    level.read_bandwidth = tier.read_bandwidth;
    level.servers = tier.servers;
    level.server_bandwidth = tier.server_bandwidth;
    level.server_latency = tier.server_latency;
    spec.levels.push_back(level);
  }
  for (const auto& instance : run.instances) spec.instance_nodes.push_back(instance->node);
  spec.nodes = s.nodes;
  spec.tp = s.tp;
  spec.block_bytes = run.block_bytes;
  spec.rule = kvcache::load_rule(s.kv.load_vs_recompute);
  spec.pcie_bandwidth = s.gpu.pcie_bandwidth;
  spec.pcie_latency = s.node.pcie_latency;
  spec.nic_bandwidth = s.node.nic_bandwidth;
  spec.nic_latency = s.node.nic_latency;
  spec.transfer_efficiency = s.kv.transfer_efficiency;
  // [[instances]] groups: each instance's own tp, GPU (PCIe) and node (PCIe latency, NICs).
  if (!s.groups.empty())
    for (const auto& instance : run.instances) {
      const auto& node = s.cluster.group_of(instance->node).node;
      spec.instance_links.push_back({int(instance->gpus.size()), instance->gpu->pcie_bandwidth, node.pcie_latency,
                                     node.nic_bandwidth, node.nic_latency});
    }
  return spec;
}

const char* move_name(kvcache::MoveKind kind) {
  switch (kind) {
    case kvcache::MoveKind::load: return "load";
    case kvcache::MoveKind::place: return "place";
    case kvcache::MoveKind::demote: return "demote";
    case kvcache::MoveKind::write_through: return "write-through";
  }
  return "?";
}

const char* tier_name(int tier) { return tier == kvcache::kHbm ? "hbm" : kTierNames[tier]; }

}  // namespace

LowerTiers::LowerTiers(RunState& run) : kvcache::TierHierarchy(hierarchy_spec(run)) {}

KvTiers::KvTiers(RunState& run, Instance& instance)
    : run_(run), instance_(instance), hierarchy_(*run.lower_tiers) {}

sg4::Host* KvTiers::host(int tier, int location) const {
  const auto node = std::size_t(instance_.node);
  switch (tier) {
    case kvcache::kHbm: return instance_.gpus[std::size_t(location)];
    case int(TierKind::dram): return run_.platform.cpus[node];
    case int(TierKind::ssd): return run_.platform.ssds[node];
    default: return run_.platform.memory_servers[std::size_t(location)];
  }
}

int KvTiers::execute(const std::vector<kvcache::Move>& moves) {
  for (const auto& m : moves) {
    XBT_VERB("instance %d: %s of %llu blocks %s[%d] -> %s[%d]", instance_.index, move_name(m.kind),
             (unsigned long long)m.blocks, tier_name(m.from_tier), m.from_location, tier_name(m.to_tier),
             m.to_location);
    const std::uint64_t request = m.request == kvcache::Move::kNoRequest ? Transfer::kNoRequest : m.request;
    run_.transfers->start(host(m.from_tier, m.from_location), host(m.to_tier, m.to_location), m.bytes,
                          std::size_t(instance_.index), request);
  }
  return int(moves.size());
}

std::vector<kvcache::TierRun> KvTiers::match(std::span<const workload::BlockId> ids, std::uint32_t from,
                                             std::uint32_t max_blocks) {
  return hierarchy_.match(instance_.index, ids, from, max_blocks);
}

bool KvTiers::should_load(const std::vector<kvcache::TierRun>& runs, double recompute_seconds) {
  return hierarchy_.should_load(instance_.index, runs, recompute_seconds);
}

void KvTiers::note_admission(const std::vector<kvcache::TierRun>& runs, std::uint32_t looked_up, bool loaded) {
  hierarchy_.note_admission(instance_.index, runs, looked_up, loaded);
}

void KvTiers::start_load(std::uint64_t request_id, std::uint16_t category, std::span<const workload::BlockId> ids,
                         const std::vector<kvcache::TierRun>& runs) {
  const double now = sg4::Engine::get_clock();
  instance_.load_parts[request_id] = execute(hierarchy_.load(instance_.index, request_id, category, ids, runs, now));
}

void KvTiers::load_finished(std::uint64_t request_id) { hierarchy_.load_finished(instance_.index, request_id); }

void KvTiers::evicted(std::span<const kvcache::EvictedBlock> blocks) {
  execute(hierarchy_.evicted(instance_.index, blocks, sg4::Engine::get_clock()));
}

void KvTiers::completed(std::span<const workload::BlockId> ids, std::uint16_t category) {
  execute(hierarchy_.completed(instance_.index, ids, category, sg4::Engine::get_clock()));
}

}  // namespace kvsim::engine
