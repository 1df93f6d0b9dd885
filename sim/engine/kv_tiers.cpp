#include "sim/engine/kv_tiers.hpp"

#include <algorithm>
#include <cmath>

#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Io.hpp>

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

KvTiers::KvTiers(Cluster& cluster, Instance& instance, std::array<int, 3> stores)
    : cluster_(cluster), instance_(instance), stores_(stores) {}

const config::TierSpec& KvTiers::spec(int kind) const {
  for (const auto& t : cluster_.scenario->kv.lower)
    if (t.kind == kKinds[kind]) return t;
  throw std::logic_error("no tier spec for " + std::string(kKinds[kind]));
}

int KvTiers::next_tier(int kind) const {
  for (int k = kind + 1; k < 3; ++k)
    if (stores_[std::size_t(k)] >= 0) return k;
  return -1;
}

std::vector<kvcache::TierRun> KvTiers::match(std::span<const workload::BlockId> ids, std::uint32_t from,
                                             std::uint32_t max_blocks) {
  std::vector<kvcache::TierRun> runs;
  for (std::uint32_t i = from; i < std::min<std::size_t>(max_blocks, ids.size()); ++i) {
    int found = -1;
    for (int k = 0; k < 3 && found < 0; ++k)
      if (stores_[std::size_t(k)] >= 0 && cluster_.stores[std::size_t(stores_[std::size_t(k)])]->contains(ids[i]))
        found = k;
    if (found < 0) break;
    if (!runs.empty() && runs.back().tier == found)
      ++runs.back().count;
    else
      runs.push_back({found, i, 1});
  }
  return runs;
}

double KvTiers::estimate_load_time(const std::vector<kvcache::TierRun>& runs) const {
  const auto& s = *cluster_.scenario;
  const double tp = double(instance_.gpus.size());
  const double pcie = s.gpu.pcie_bandwidth * s.kv.transfer_efficiency;
  double slowest = 0;
  for (int kind = 0; kind < 3; ++kind) {
    double blocks = 0;
    for (const auto& r : runs)
      if (r.tier == kind) blocks += r.count;
    if (blocks == 0) continue;
    const double bytes = blocks * cluster_.block_bytes;
    double t = 0;
    if (kind == 0) {
      t = bytes / tp / pcie + s.node.pcie_latency;
    } else if (kind == 1) {
      t = bytes / spec(kind).read_bandwidth + bytes / tp / pcie + s.node.pcie_latency;
    } else {
      const auto& r = spec(kind);
      const double nic = std::min(s.node.nic_bandwidth * tp, r.server_bandwidth) * s.kv.transfer_efficiency;
      t = bytes / nic + s.node.nic_latency + r.server_latency;
    }
    // Loads already in flight from the same tier share its path.
    slowest = std::max(slowest, t * (1 + in_flight_[std::size_t(kind)]));
  }
  return slowest;
}

bool KvTiers::should_load(const std::vector<kvcache::TierRun>& runs, double recompute_seconds) {
  const std::string& rule = cluster_.scenario->kv.load_vs_recompute;
  if (rule == "load") return true;
  if (rule == "recompute") return false;
  return estimate_load_time(runs) < recompute_seconds;
}

void KvTiers::note_admission(const std::vector<kvcache::TierRun>& runs, std::uint32_t looked_up, bool loaded) {
  std::uint64_t reaching = looked_up;
  for (int kind = 0; kind < 3; ++kind) {
    if (stores_[std::size_t(kind)] < 0) continue;
    auto& counters = cluster_.stores[std::size_t(stores_[std::size_t(kind)])]->counters();
    std::uint64_t hits = 0;
    for (const auto& r : runs)
      if (r.tier == kind) hits += r.count;
    counters.lookup_blocks += reaching;
    counters.hit_blocks += hits;
    if (loaded) counters.loaded_blocks += hits;
    reaching -= std::min(reaching, hits);
  }
}

void KvTiers::start(Transfer transfer) {
  cluster_.transfer_started(transfer, sg4::Engine::get_clock());
  instance_.transfers.push_back(std::move(transfer));
}

void KvTiers::copy_to_gpus(sg4::Host* from, double bytes, std::uint64_t request) {
  const double shard = bytes / double(instance_.gpus.size());
  for (sg4::Host* gpu : instance_.gpus) {
    Transfer t;
    t.request = request;
    t.bytes = shard;
    from->route_to(gpu, t.route, nullptr);
    t.activity = sg4::Comm::sendto_async(from, gpu, std::uint64_t(std::llround(shard)));
    start(std::move(t));
  }
}

void KvTiers::copy_from_gpus(sg4::Host* to, double bytes) {
  const double shard = bytes / double(instance_.gpus.size());
  for (sg4::Host* gpu : instance_.gpus) {
    Transfer t;
    t.bytes = shard;
    gpu->route_to(to, t.route, nullptr);
    t.activity = sg4::Comm::sendto_async(gpu, to, std::uint64_t(std::llround(shard)));
    start(std::move(t));
  }
}

sg4::Host* KvTiers::remote_server(workload::BlockId first) const {
  const auto& servers = cluster_.platform.memory_servers;
  return servers[std::size_t(first % servers.size())];
}

void KvTiers::start_load(std::uint64_t request_id, std::uint16_t category, std::span<const workload::BlockId> ids,
                         const std::vector<kvcache::TierRun>& runs) {
  const double now = sg4::Engine::get_clock();
  sg4::Host* cpu = cluster_.platform.cpus[std::size_t(instance_.node)];
  int parts = 0;
  for (const auto& run : runs) {
    auto& store = *cluster_.stores[std::size_t(stores_[std::size_t(run.tier)])];
    const bool exclusive = spec(run.tier).exclusive;
    for (std::uint32_t i = run.first; i < run.first + run.count; ++i) {
      if (exclusive)
        store.erase(ids[i]);
      else
        store.touch(ids[i], now, category);
    }
    const double bytes = run.count * cluster_.block_bytes;
    store.counters().loaded_bytes += bytes;
    parts += int(instance_.gpus.size());
    ++in_flight_[std::size_t(run.tier)];
    if (run.tier == 0) {
      copy_to_gpus(cpu, bytes, request_id);
    } else if (run.tier == 1) {
      Transfer read;
      read.request = request_id;
      read.bytes = bytes;
      read.disk = instance_.node;
      read.activity = cluster_.platform.ssds[std::size_t(instance_.node)]->read_async(sg_size_t(std::llround(bytes)));
      for (sg4::Host* gpu : instance_.gpus) read.then_copy.emplace_back(cpu, gpu);
      start(std::move(read));
    } else {
      copy_to_gpus(remote_server(ids[run.first]), bytes, request_id);
    }
  }
  instance_.load_parts[request_id] = parts;
  load_kinds_[request_id] = runs;
}

void KvTiers::load_finished(std::uint64_t request_id) {
  auto it = load_kinds_.find(request_id);
  if (it == load_kinds_.end()) return;
  for (const auto& run : it->second) --in_flight_[std::size_t(run.tier)];
  load_kinds_.erase(it);
}

void KvTiers::admit(int kind, std::span<const kvcache::EvictedBlock> blocks, int from_kind, bool write_through) {
  if (kind < 0 || blocks.empty()) return;
  const double now = sg4::Engine::get_clock();
  const auto& tier = spec(kind);
  const bool accepts = write_through ? tier.admission == "completion" : tier.admission == "demotion";
  if (!accepts) return;
  auto& store = *cluster_.stores[std::size_t(stores_[std::size_t(kind)])];
  std::vector<kvcache::EvictedBlock> evicted;
  std::uint64_t written = 0;
  for (const auto& block : blocks) {
    if (store.contains(block.id)) {
      store.touch(block.id, now, block.category);
      continue;
    }
    auto dropped = store.insert(block, now);
    evicted.insert(evicted.end(), dropped.begin(), dropped.end());
    ++written;
  }
  if (written > 0) {
    const double bytes = double(written) * cluster_.block_bytes;
    store.counters().written_bytes += bytes;
    sg4::Host* cpu = cluster_.platform.cpus[std::size_t(instance_.node)];
    // Where the bytes come from: the GPUs (from HBM) or the node's host side.
    if (kind == 0) {
      copy_from_gpus(cpu, bytes);
    } else if (kind == 1) {
      if (from_kind < 0) copy_from_gpus(cpu, bytes);
      Transfer write;
      write.bytes = bytes;
      write.disk = instance_.node;
      write.activity = cluster_.platform.ssds[std::size_t(instance_.node)]->write_async(sg_size_t(std::llround(bytes)));
      start(std::move(write));
    } else {
      sg4::Host* server = remote_server(blocks.front().id);
      if (from_kind < 0) {
        copy_from_gpus(server, bytes);
      } else {
        Transfer t;
        t.bytes = bytes;
        cpu->route_to(server, t.route, nullptr);
        t.activity = sg4::Comm::sendto_async(cpu, server, std::uint64_t(std::llround(bytes)));
        start(std::move(t));
      }
    }
  }
  // What this tier evicted is demoted to the next one down.
  admit(next_tier(kind), evicted, kind, false);
}

void KvTiers::evicted(std::span<const kvcache::EvictedBlock> blocks) { admit(next_tier(-1), blocks, -1, false); }

void KvTiers::completed(std::span<const workload::BlockId> ids, std::uint16_t category) {
  std::vector<kvcache::EvictedBlock> blocks;
  blocks.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) blocks.push_back({ids[i], std::uint32_t(i), category});
  for (int kind = 0; kind < 3; ++kind)
    if (stores_[std::size_t(kind)] >= 0) admit(kind, blocks, -1, true);
}

}  // namespace kvsim::engine
