#include "sim/engine/kv_tiers.hpp"

#include <algorithm>
#include <stdexcept>

#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_tiers, kvsim_engine, "KV tiers below HBM: lookups, loads, demotions");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

int kind_of(const std::string& name) {
  for (int k = 0; k < kTierKinds; ++k)
    if (name == kTierNames[k]) return k;
  throw std::logic_error("unknown tier kind " + name);
}

}  // namespace

LowerTiers::LowerTiers(RunState& run) {
  const auto& s = run.scenario;
  serving_.assign(run.instances.size(), {-1, -1, -1});
  // Stores are created nearest tier first, so /tiers lists dram, ssd, remote in that order.
  for (int kind = 0; kind < kTierKinds; ++kind) {
    for (const auto& tier : s.kv.lower) {
      if (kind_of(tier.kind) != kind) continue;
      const auto capacity = std::uint64_t(tier.capacity / run.block_bytes);
      const auto add = [&](int location, const std::string& scope) {
        stores_.push_back({std::make_unique<kvcache::TierStore>(tier.kind, capacity, tier.eviction),
                           kvcache::admission::make_admission(tier.admission, capacity), TierKind(kind), location,
                           scope});
        return int(stores_.size() - 1);
      };
      if (tier.scope == "instance") {
        for (auto& instance : run.instances) serving_[std::size_t(instance->index)][std::size_t(kind)] = add(instance->index, "instance");
      } else if (tier.scope == "node") {
        for (int n = 0; n < s.nodes; ++n) {
          const int store = add(n, "node");
          for (auto& instance : run.instances)
            if (instance->node == n) serving_[std::size_t(instance->index)][std::size_t(kind)] = store;
        }
      } else {
        const int store = add(0, "cluster");
        for (auto& serving : serving_) serving[std::size_t(kind)] = store;
      }
    }
  }
}

KvTiers::KvTiers(RunState& run, Instance& instance) : run_(run), instance_(instance) {
  const auto serving = run.lower_tiers->serving(instance.index);
  for (const auto& tier : run.scenario.kv.lower) {
    auto& level = levels_[std::size_t(kind_of(tier.kind))];
    level.store = serving[std::size_t(kind_of(tier.kind))];
    level.spec = &tier;
  }
  const auto node = std::size_t(instance.node);
  levels_[0].host = run.platform.cpus[node];
  if (levels_[1].store >= 0) levels_[1].host = run.platform.ssds[node];
}

int KvTiers::next_level(int kind) const {
  for (int k = kind + 1; k < kTierKinds; ++k)
    if (levels_[std::size_t(k)].store >= 0) return k;
  return -1;
}

sg4::Host* KvTiers::host_of(int kind, workload::BlockId first) const {
  if (kind != int(TierKind::remote)) return levels_[std::size_t(kind)].host;
  // A request's run of blocks lives on the server its first block hashes to.
  const auto& servers = run_.platform.memory_servers;
  return servers[std::size_t(first % servers.size())];
}

std::vector<kvcache::TierRun> KvTiers::match(std::span<const workload::BlockId> ids, std::uint32_t from,
                                             std::uint32_t max_blocks) {
  std::vector<kvcache::TierRun> runs;
  for (std::uint32_t i = from; i < std::min<std::size_t>(max_blocks, ids.size()); ++i) {
    int found = -1;
    for (int k = 0; k < kTierKinds && found < 0; ++k)
      if (levels_[std::size_t(k)].store >= 0 && store(k).contains(ids[i])) found = k;
    if (found < 0) break;
    if (!runs.empty() && runs.back().tier == found)
      ++runs.back().count;
    else
      runs.push_back({found, i, 1});
  }
  return runs;
}

double KvTiers::estimate_load_time(const std::vector<kvcache::TierRun>& runs) const {
  const auto& s = run_.scenario;
  const double tp = double(instance_.gpus.size());
  const double pcie = s.gpu.pcie_bandwidth * s.kv.transfer_efficiency;
  double slowest = 0;
  for (int kind = 0; kind < kTierKinds; ++kind) {
    double blocks = 0;
    for (const auto& r : runs)
      if (r.tier == kind) blocks += r.count;
    if (blocks == 0) continue;
    const double bytes = blocks * run_.block_bytes;
    const auto& spec = *levels_[std::size_t(kind)].spec;
    double t = 0;
    if (kind == int(TierKind::dram)) {
      t = bytes / tp / pcie + s.node.pcie_latency;
    } else if (kind == int(TierKind::ssd)) {
      // Streamed from the drive into the GPUs: the slower of the drive and the PCIe links.
      t = std::max(bytes / spec.read_bandwidth, bytes / tp / pcie) + s.node.pcie_latency;
    } else {
      const double nic = std::min(s.node.nic_bandwidth * tp, spec.server_bandwidth) * s.kv.transfer_efficiency;
      t = bytes / nic + s.node.nic_latency + spec.server_latency;
    }
    // Loads already in flight from the same tier share its path.
    slowest = std::max(slowest, t * (1 + in_flight_[std::size_t(kind)]));
  }
  return slowest;
}

bool KvTiers::should_load(const std::vector<kvcache::TierRun>& runs, double recompute_seconds) {
  const std::string& rule = run_.scenario.kv.load_vs_recompute;
  if (rule == "load") return true;
  if (rule == "recompute") return false;
  return estimate_load_time(runs) < recompute_seconds;
}

void KvTiers::note_admission(const std::vector<kvcache::TierRun>& runs, std::uint32_t looked_up, bool loaded) {
  std::uint64_t reaching = looked_up;
  for (int kind = 0; kind < kTierKinds; ++kind) {
    if (levels_[std::size_t(kind)].store < 0) continue;
    auto& counters = store(kind).counters();
    std::uint64_t hits = 0;
    for (const auto& r : runs)
      if (r.tier == kind) hits += r.count;
    counters.lookup_blocks += reaching;
    counters.hit_blocks += hits;
    if (loaded) counters.loaded_blocks += hits;
    reaching -= std::min(reaching, hits);
  }
}

void KvTiers::to_gpus(sg4::Host* from, double bytes, std::uint64_t request) {
  const double shard = bytes / double(instance_.gpus.size());
  for (sg4::Host* gpu : instance_.gpus) run_.transfers->start(from, gpu, shard, std::size_t(instance_.index), request);
}

void KvTiers::from_gpus(sg4::Host* to, double bytes) {
  const double shard = bytes / double(instance_.gpus.size());
  for (sg4::Host* gpu : instance_.gpus) run_.transfers->start(gpu, to, shard, std::size_t(instance_.index));
}

void KvTiers::start_load(std::uint64_t request_id, std::uint16_t category, std::span<const workload::BlockId> ids,
                         const std::vector<kvcache::TierRun>& runs) {
  const double now = sg4::Engine::get_clock();
  int parts = 0;
  for (const auto& run : runs) {
    auto& tier = store(run.tier);
    const bool exclusive = levels_[std::size_t(run.tier)].spec->exclusive;
    for (std::uint32_t i = run.first; i < run.first + run.count; ++i) {
      if (exclusive)
        tier.erase(ids[i]);
      else
        tier.touch(ids[i], now, category);
    }
    const double bytes = run.count * run_.block_bytes;
    tier.counters().loaded_bytes += bytes;
    parts += int(instance_.gpus.size());
    ++in_flight_[std::size_t(run.tier)];
    to_gpus(host_of(run.tier, ids[run.first]), bytes, request_id);
    XBT_VERB("instance %d: request %llu loads %u blocks from %s", instance_.index, (unsigned long long)request_id,
              run.count, kTierNames[run.tier]);
  }
  instance_.load_parts[request_id] = parts;
  loads_[request_id] = runs;
}

void KvTiers::load_finished(std::uint64_t request_id) {
  auto it = loads_.find(request_id);
  if (it == loads_.end()) return;
  for (const auto& run : it->second) --in_flight_[std::size_t(run.tier)];
  loads_.erase(it);
}

void KvTiers::admit(int kind, std::span<const kvcache::EvictedBlock> blocks, int from, bool write_through) {
  if (kind < 0 || blocks.empty()) return;
  const auto& level = levels_[std::size_t(kind)];
  auto& rule = run_.lower_tiers->admission(level.store);
  const auto offer = write_through ? kvcache::admission::Offer::write_through : kvcache::admission::Offer::demotion;
  if (!rule.takes(offer)) return;
  const double now = sg4::Engine::get_clock();
  auto& tier = store(kind);
  std::vector<kvcache::EvictedBlock> evicted;
  std::uint64_t written = 0;
  for (const auto& block : blocks) {
    if (tier.contains(block.id)) {
      tier.touch(block.id, now, block.category);
      continue;
    }
    if (!rule.admit(block, offer, now)) continue;
    auto dropped = tier.insert(block, now);
    evicted.insert(evicted.end(), dropped.begin(), dropped.end());
    ++written;
  }
  if (written > 0) {
    const double bytes = double(written) * run_.block_bytes;
    tier.counters().written_bytes += bytes;
    sg4::Host* to = host_of(kind, blocks.front().id);
    if (from < 0)
      from_gpus(to, bytes);  // from HBM
    else
      run_.transfers->start(host_of(from, blocks.front().id), to, bytes, std::size_t(instance_.index));
  }
  // What this tier evicted is demoted to the next one down.
  admit(next_level(kind), evicted, kind, false);
}

void KvTiers::evicted(std::span<const kvcache::EvictedBlock> blocks) { admit(next_level(-1), blocks, -1, false); }

void KvTiers::completed(std::span<const workload::BlockId> ids, std::uint16_t category) {
  std::vector<kvcache::EvictedBlock> blocks;
  blocks.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) blocks.push_back({ids[i], std::uint32_t(i), category});
  for (int kind = 0; kind < kTierKinds; ++kind)
    if (levels_[std::size_t(kind)].store >= 0) admit(kind, blocks, -1, true);
}

}  // namespace kvsim::engine
