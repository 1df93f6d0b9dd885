#include "models/kvcache/tier_hierarchy.hpp"

#include <algorithm>
#include <stdexcept>

#include "models/kvcache/prefetch_ahead.hpp"

namespace kvsim::kvcache {

namespace {
// The tiers a load reads: a load is one load in flight from each, however many runs it has
// there (runs alternate between tiers when a prefix's blocks do).
std::array<bool, kTierKinds> tiers_read(const std::vector<TierRun>& runs) {
  std::array<bool, kTierKinds> read{};
  for (const auto& run : runs) read[std::size_t(run.tier)] = true;
  return read;
}
}  // namespace

TierKind tier_kind(const std::string& name) {
  for (int k = 0; k < kTierKinds; ++k)
    if (name == kTierNames[k]) return TierKind(k);
  throw std::invalid_argument("unknown tier kind '" + name + "' (expected dram, ssd or remote)");
}

LoadRule load_rule(const std::string& name) {
  if (name == "auto") return LoadRule::auto_choice;
  if (name == "load") return LoadRule::load;
  if (name == "recompute") return LoadRule::recompute;
  throw std::invalid_argument("unknown load_vs_recompute rule '" + name + "' (expected auto, load or recompute)");
}

TierHierarchy::TierHierarchy(HierarchySpec spec) : spec_(std::move(spec)) {
  const std::size_t instances = spec_.instance_nodes.size();
  serving_.assign(instances, {-1, -1, -1});
  in_flight_.assign(instances, {0, 0, 0});
  loads_.resize(instances);
  // Stores are created nearest tier first, so /tiers lists dram, ssd, remote in that order.
  for (int kind = 0; kind < kTierKinds; ++kind) {
    for (const auto& tier : spec_.levels) {
      if (int(tier.kind) != kind) continue;
      if (levels_[std::size_t(kind)] != nullptr)
        throw std::invalid_argument(std::string("tier ") + kTierNames[kind] + " configured twice");
      levels_[std::size_t(kind)] = &tier;
      const auto add = [&](int location, const std::string& scope) {
        stores_.push_back({std::make_unique<TierStore>(kTierNames[kind], tier.capacity_blocks, tier.eviction),
                           admission::make_admission(tier.admission, tier.capacity_blocks), tier.kind, location,
                           scope});
        return int(stores_.size() - 1);
      };
      if (tier.scope == "instance") {
        for (std::size_t i = 0; i < instances; ++i) serving_[i][std::size_t(kind)] = add(int(i), "instance");
      } else if (tier.scope == "node") {
        for (int n = 0; n < spec_.nodes; ++n) {
          const int store = add(n, "node");
          for (std::size_t i = 0; i < instances; ++i)
            if (spec_.instance_nodes[i] == n) serving_[i][std::size_t(kind)] = store;
        }
      } else {
        const int store = add(0, "cluster");
        for (auto& serving : serving_) serving[std::size_t(kind)] = store;
      }
    }
  }
  store_loads_.assign(stores_.size(), 0);
}

int TierHierarchy::next_level(int instance, int kind) const {
  for (int k = kind + 1; k < kTierKinds; ++k)
    if (serving_[std::size_t(instance)][std::size_t(k)] >= 0) return k;
  return -1;
}

int TierHierarchy::location_of(int instance, int kind, workload::BlockId first) const {
  if (kind == int(TierKind::remote)) {
    // A run of blocks lives on the server its first block hashes to.
    const auto servers = std::uint64_t(std::max(1, levels_[std::size_t(kind)]->servers));
    return int(first % servers);
  }
  return stores_[std::size_t(serving_[std::size_t(instance)][std::size_t(kind)])].location;
}

void TierHierarchy::add_shards(std::vector<Move>& moves, int instance, MoveKind kind, bool to_hbm, int tier,
                               int location, std::uint64_t blocks, double bytes, std::uint64_t request) const {
  const int tp = spec_.links(instance).tp;
  const double shard = bytes / double(tp);
  for (int g = 0; g < tp; ++g) {
    Move m;
    m.kind = kind;
    m.from_tier = to_hbm ? tier : kHbm;
    m.from_location = to_hbm ? location : g;
    m.to_tier = to_hbm ? kHbm : tier;
    m.to_location = to_hbm ? g : location;
    m.blocks = blocks;
    m.bytes = shard;
    m.request = request;
    moves.push_back(m);
  }
}

std::vector<TierRun> TierHierarchy::match(int instance, std::span<const workload::BlockId> ids, std::uint32_t from,
                                          std::uint32_t max_blocks) const {
  const auto& serving = serving_[std::size_t(instance)];
  std::vector<TierRun> runs;
  for (std::uint32_t i = from; i < std::min<std::size_t>(max_blocks, ids.size()); ++i) {
    int found = -1;
    for (int k = 0; k < kTierKinds && found < 0; ++k)
      if (serving[std::size_t(k)] >= 0 && store(instance, k).contains(ids[i])) found = k;
    if (found < 0) break;
    if (!runs.empty() && runs.back().tier == found)
      ++runs.back().count;
    else
      runs.push_back({found, i, 1});
  }
  return runs;
}

double TierHierarchy::estimate_load_time(int instance, const std::vector<TierRun>& runs) const {
  const auto links = spec_.links(instance);
  const double tp = double(links.tp);
  const double pcie = links.pcie_bandwidth * spec_.transfer_efficiency;
  double slowest = 0;
  // DRAM and SSD runs both reach the GPUs over their PCIe links (the drive sits behind the
  // CPU side), so one load's runs from both tiers share those links: their times add.
  double pcie_shares = 0;
  int pcie_tiers = 0;
  for (int kind = 0; kind < kTierKinds; ++kind) {
    double blocks = 0;
    for (const auto& r : runs)
      if (r.tier == kind) blocks += r.count;
    if (blocks == 0) continue;
    const double bytes = blocks * spec_.block_bytes;
    const auto& level = *levels_[std::size_t(kind)];
    const double contention = 1 + in_flight_[std::size_t(instance)][std::size_t(kind)];
    if (kind != int(TierKind::remote)) {
      pcie_shares += bytes / tp / pcie * contention;
      ++pcie_tiers;
    }
    double t = 0;
    if (kind == int(TierKind::dram)) {
      t = bytes / tp / pcie + links.pcie_latency;
    } else if (kind == int(TierKind::ssd)) {
      // Streamed from the drive into the GPUs: the slower of the drive and the PCIe links.
      t = std::max(bytes / level.read_bandwidth, bytes / tp / pcie) + links.pcie_latency;
      // The node's other instances read the same drive: with loads of theirs in flight (each
      // taken to be as large as this one), the drive alone takes as long as all of them.
      const int drive_loads = store_loads_[std::size_t(serving_[std::size_t(instance)][std::size_t(kind)])];
      if (drive_loads + 1 > contention)
        slowest = std::max(slowest, bytes / level.read_bandwidth * (1 + drive_loads) + links.pcie_latency);
    } else {
      const double nic = std::min(links.nic_bandwidth * tp, level.server_bandwidth) * spec_.transfer_efficiency;
      t = bytes / nic + links.nic_latency + level.server_latency;
    }
    // Loads already in flight from the same tier share its path.
    slowest = std::max(slowest, t * contention);
  }
  if (pcie_tiers > 1) slowest = std::max(slowest, pcie_shares + links.pcie_latency);
  return slowest;
}

bool TierHierarchy::should_load(int instance, const std::vector<TierRun>& runs, double recompute_seconds) const {
  if (spec_.rule == LoadRule::load) return true;
  if (spec_.rule == LoadRule::recompute) return false;
  return estimate_load_time(instance, runs) < recompute_seconds;
}

void TierHierarchy::note_admission(int instance, const std::vector<TierRun>& runs, std::uint32_t looked_up,
                                   bool loaded) {
  std::uint64_t reaching = looked_up;
  for (int kind = 0; kind < kTierKinds; ++kind) {
    if (serving_[std::size_t(instance)][std::size_t(kind)] < 0) continue;
    auto& counters = store(instance, kind).counters();
    std::uint64_t hits = 0;
    for (const auto& r : runs)
      if (r.tier == kind) hits += r.count;
    counters.lookup_blocks += reaching;
    counters.hit_blocks += hits;
    if (loaded) counters.loaded_blocks += hits;
    reaching -= std::min(reaching, hits);
  }
}

std::vector<Move> TierHierarchy::load(int instance, std::uint64_t request, std::uint16_t category,
                                      std::span<const workload::BlockId> ids, const std::vector<TierRun>& runs,
                                      double now) {
  // One transfer per tier end (tier and location) and GPU shard, however many runs the
  // prefix has there (runs alternate between tiers when its blocks do), in order of first use.
  struct Source {
    int tier, location;
    std::uint64_t blocks;
  };
  std::vector<Source> sources;
  for (const auto& run : runs) {
    auto& tier = store(instance, run.tier);
    const bool exclusive = levels_[std::size_t(run.tier)]->exclusive;
    for (std::uint32_t i = run.first; i < run.first + run.count; ++i) {
      if (exclusive)
        tier.erase(ids[i]);
      else
        tier.touch(ids[i], now, category);
    }
    tier.counters().loaded_bytes += run.count * spec_.block_bytes;
    const int location = location_of(instance, run.tier, ids[run.first]);
    auto same = std::find_if(sources.begin(), sources.end(),
                             [&](const Source& s) { return s.tier == run.tier && s.location == location; });
    if (same == sources.end())
      sources.push_back({run.tier, location, run.count});
    else
      same->blocks += run.count;
  }
  std::vector<Move> moves;
  moves.reserve(sources.size() * std::size_t(spec_.links(instance).tp));
  for (const auto& source : sources) {
    const bool exclusive = levels_[std::size_t(source.tier)]->exclusive;
    add_shards(moves, instance, exclusive ? MoveKind::place : MoveKind::load, true, source.tier, source.location,
               source.blocks, double(source.blocks) * spec_.block_bytes, request);
  }
  const auto read = tiers_read(runs);
  auto& in_flight = in_flight_[std::size_t(instance)];
  for (int kind = 0; kind < kTierKinds; ++kind) {
    in_flight[std::size_t(kind)] += read[std::size_t(kind)];
    if (read[std::size_t(kind)]) store_loads_[std::size_t(serving_[std::size_t(instance)][std::size_t(kind)])] += 1;
  }
  loads_[std::size_t(instance)][request] = runs;
  return moves;
}

void TierHierarchy::load_finished(int instance, std::uint64_t request) {
  auto& loads = loads_[std::size_t(instance)];
  auto it = loads.find(request);
  if (it == loads.end()) return;
  const auto read = tiers_read(it->second);
  auto& in_flight = in_flight_[std::size_t(instance)];
  for (int kind = 0; kind < kTierKinds; ++kind) {
    in_flight[std::size_t(kind)] -= read[std::size_t(kind)];
    if (read[std::size_t(kind)]) store_loads_[std::size_t(serving_[std::size_t(instance)][std::size_t(kind)])] -= 1;
  }
  loads.erase(it);
}

void TierHierarchy::admit(int instance, int kind, std::span<const EvictedBlock> blocks, int from, bool write_through,
                          double now, std::vector<Move>& moves) {
  if (kind < 0 || blocks.empty()) return;
  auto& rule = *stores_[std::size_t(serving_[std::size_t(instance)][std::size_t(kind)])].admission;
  const auto offer = write_through ? admission::Offer::write_through : admission::Offer::demotion;
  if (!rule.takes(offer)) return;
  auto& tier = store(instance, kind);
  // A tier of less than one block (its capacity rounds down to 0) keeps nothing: writing
  // to it would move and count bytes for blocks that are not there.
  if (tier.capacity() == 0) return;
  // Each level demotes into its own scratch (the cascade below reads this one while
  // filling the next), kept for its capacity.
  auto& evicted = demoted_[std::size_t(kind)];
  evicted.clear();
  std::uint64_t written = 0;
  walk_ahead(
      blocks.size(), [&](std::size_t j) { tier.prefetch(blocks[j].id); },
      [&](std::size_t i) {
        const auto& block = blocks[i];
        if (tier.touch(block.id, now, block.category)) return true;
        if (!rule.admit(block, offer, now)) return true;
        tier.insert_absent(block, now, evicted);
        ++written;
        return true;
      });
  if (written > 0) {
    const double bytes = double(written) * spec_.block_bytes;
    tier.counters().written_bytes += bytes;
    const int to = location_of(instance, kind, blocks.front().id);
    const auto move_kind = write_through ? MoveKind::write_through : MoveKind::demote;
    if (from == kHbm) {
      add_shards(moves, instance, move_kind, false, kind, to, written, bytes, Move::kNoRequest);
    } else {
      Move m;
      m.kind = move_kind;
      m.from_tier = from;
      m.from_location = location_of(instance, from, blocks.front().id);
      m.to_tier = kind;
      m.to_location = to;
      m.blocks = written;
      m.bytes = bytes;
      moves.push_back(m);
    }
  }
  // What this tier evicted is demoted to the next one down.
  admit(instance, next_level(instance, kind), evicted, kind, false, now, moves);
}

std::vector<Move> TierHierarchy::evicted(int instance, std::span<const EvictedBlock> blocks, double now) {
  std::vector<Move> moves;
  admit(instance, next_level(instance, kHbm), blocks, kHbm, false, now, moves);
  return moves;
}

std::vector<Move> TierHierarchy::completed(int instance, std::span<const workload::BlockId> ids,
                                           std::uint16_t category, double now) {
  // Most tiers admit demotions only: then a finished request writes nothing through, and
  // its blocks need not be listed.
  bool any = false;
  for (int kind = 0; kind < kTierKinds; ++kind) {
    const int store = serving_[std::size_t(instance)][std::size_t(kind)];
    any = any || (store >= 0 && stores_[std::size_t(store)].admission->takes(admission::Offer::write_through));
  }
  if (!any) return {};
  std::vector<EvictedBlock> blocks;
  blocks.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) blocks.push_back({ids[i], std::uint32_t(i), category});
  std::vector<Move> moves;
  for (int kind = 0; kind < kTierKinds; ++kind)
    if (serving_[std::size_t(instance)][std::size_t(kind)] >= 0) admit(instance, kind, blocks, kHbm, true, now, moves);
  return moves;
}

}  // namespace kvsim::kvcache
