// An audit of the tier hierarchy below HBM (models/kvcache/tier_hierarchy.*): cases the
// other tier tests leave out, each worked out by hand from the platform the simulator
// builds (sim/engine/platform.cpp) before running the code:
//   - DRAM loads cross each GPU's own PCIe link (cpu -> gpu, bandwidth x efficiency, PCIe
//     latency), one Comm per GPU shard carrying bytes / tp;
//   - SSD loads cross the drive's read link (no efficiency, no latency), then the same
//     PCIe links: the tp Comms share the drive;
//   - remote loads leave one memory server (its NIC, x efficiency, its latency) and enter
//     each GPU's NIC (x efficiency, the node's NIC latency).
// Figures are chosen so that every expected value is exact in binary floating point.
#include <doctest/doctest.h>

#include <vector>

#include "models/kvcache/tier_hierarchy.hpp"

using namespace kvsim::kvcache;
using kvsim::workload::BlockId;

namespace {

constexpr double kBlockBytes = 100;
constexpr int kDram = int(TierKind::dram);
constexpr int kSsd = int(TierKind::ssd);
constexpr int kRemote = int(TierKind::remote);

TierLevelSpec level(TierKind kind, std::uint64_t capacity, const std::string& admission = "demotion") {
  TierLevelSpec l;
  l.kind = kind;
  l.capacity_blocks = capacity;
  l.admission = admission;
  l.scope = kind == TierKind::remote ? "cluster" : "node";
  l.read_bandwidth = 1000;  // B/s (ssd)
  l.servers = 1;
  return l;
}

// One node; tp GPUs per instance; PCIe 50 B/s per GPU at efficiency 0.5 (25 B/s achieved),
// 0.25 s PCIe latency; NICs 30 B/s per GPU, 0.125 s latency.
HierarchySpec spec_of(std::vector<TierLevelSpec> levels, int tp = 2, std::vector<int> nodes = {0, 0}) {
  HierarchySpec s;
  s.levels = std::move(levels);
  s.instance_nodes = std::move(nodes);
  s.nodes = 1;
  s.tp = tp;
  s.block_bytes = kBlockBytes;
  s.pcie_bandwidth = 50;
  s.pcie_latency = 0.25;
  s.nic_bandwidth = 30;
  s.nic_latency = 0.125;
  s.transfer_efficiency = 0.5;
  return s;
}

std::vector<EvictedBlock> blocks_of(std::vector<BlockId> ids) {
  std::vector<EvictedBlock> out;
  for (std::size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], std::uint32_t(i), 0});
  return out;
}

const TierStore& store_of(const TierHierarchy& h, int instance, TierKind kind) {
  return *h.stores()[std::size_t(h.serving(instance)[std::size_t(kind)])].store;
}

std::vector<TierRun> one_run(int tier, std::uint32_t first, std::uint32_t count) { return {{tier, first, count}}; }

}  // namespace

TEST_CASE("tier audit: a DRAM load at tp 2 is one move per GPU shard of half the bytes, timed over one PCIe link") {
  TierHierarchy h(spec_of({level(TierKind::dram, 8)}));
  h.evicted(0, blocks_of({1, 2, 3}), 0.0);
  const std::vector<BlockId> ids{1, 2, 3};
  const auto runs = h.match(0, ids, 0, 3);
  REQUIRE(runs.size() == 1);
  // 300 B split over 2 GPUs: 150 B per PCIe link at 50 x 0.5 = 25 B/s is 6 s, + 0.25 s.
  CHECK(h.estimate_load_time(0, runs) == 6.25);
  const auto moves = h.load(0, 9, 0, ids, runs, 1.0);
  REQUIRE(moves.size() == 2);
  for (int g = 0; g < 2; ++g) {
    CHECK(moves[std::size_t(g)].kind == MoveKind::load);
    CHECK(moves[std::size_t(g)].from_tier == kDram);
    CHECK(moves[std::size_t(g)].to_tier == kHbm);
    CHECK(moves[std::size_t(g)].to_location == g);
    CHECK(moves[std::size_t(g)].blocks == 3);
    CHECK(moves[std::size_t(g)].bytes == 150);
    CHECK(moves[std::size_t(g)].request == 9);
  }
  // At tp 1 the whole 300 B crosses one link: 12 s + 0.25 s.
  TierHierarchy one(spec_of({level(TierKind::dram, 8)}, 1, {0}));
  one.evicted(0, blocks_of({1, 2, 3}), 0.0);
  CHECK(one.estimate_load_time(0, runs) == 12.25);
  CHECK(one.load(0, 9, 0, ids, runs, 1.0).size() == 1);
}

TEST_CASE("tier audit: an SSD load is bounded by the drive when it is slower than the GPUs' PCIe links together") {
  auto slow = level(TierKind::ssd, 8);
  slow.read_bandwidth = 40;  // B/s: 400 B take 10 s off the drive
  TierHierarchy h(spec_of({slow}));
  h.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  // The 2 Comms (200 B each) share the drive: 400 / 40 = 10 s, slower than 200 / 25 = 8 s
  // over each PCIe link; the drive's link has no latency, PCIe adds 0.25 s.
  CHECK(h.estimate_load_time(0, one_run(kSsd, 0, 4)) == 10.25);
  // A fast drive (1000 B/s: 0.4 s): the PCIe links bound it, 8 s + 0.25 s.
  TierHierarchy fast(spec_of({level(TierKind::ssd, 8)}));
  fast.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  CHECK(fast.estimate_load_time(0, one_run(kSsd, 0, 4)) == 8.25);
}

TEST_CASE("tier audit: a remote load is bounded by the server's NIC or the GPUs' NICs together, plus both latencies") {
  auto remote = level(TierKind::remote, 8);
  remote.server_bandwidth = 40;  // B/s, below the 2 x 30 B/s of the GPUs' NICs
  remote.server_latency = 0.375;
  TierHierarchy h(spec_of({remote}));
  h.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  // min(2 x 30, 40) x 0.5 = 20 B/s: 400 B in 20 s, + 0.125 + 0.375 s of latency.
  CHECK(h.estimate_load_time(0, one_run(kRemote, 0, 4)) == 20.5);
  // A server faster than the GPUs' NICs: min(60, 100) x 0.5 = 30 B/s, 400 B in 40 / 3 s.
  remote.server_bandwidth = 100;
  TierHierarchy fast(spec_of({remote}));
  CHECK(fast.estimate_load_time(0, one_run(kRemote, 0, 4)) == doctest::Approx(40.0 / 3 + 0.5).epsilon(1e-15));
}

TEST_CASE("tier audit: load_vs_recompute auto recomputes at exact break-even, loads when loading is strictly faster") {
  TierHierarchy h(spec_of({level(TierKind::dram, 8)}));
  h.evicted(0, blocks_of({1, 2}), 0.0);
  const auto runs = one_run(kDram, 0, 2);
  // 200 B / 2 / 25 B/s = 4 s + 0.25 s.
  REQUIRE(h.estimate_load_time(0, runs) == 4.25);
  CHECK_FALSE(h.should_load(0, runs, 4.25));  // a tie is not a gain: keep the links free
  CHECK(h.should_load(0, runs, 4.3125));
  CHECK_FALSE(h.should_load(0, runs, 4.1875));
}

TEST_CASE("tier audit: exclusive placement moves a loaded block up, and its next eviction writes it down again") {
  auto exclusive = level(TierKind::dram, 4);
  exclusive.exclusive = true;
  TierHierarchy h(spec_of({exclusive}));
  h.evicted(0, blocks_of({1, 2}), 0.0);
  const std::vector<BlockId> ids{1, 2};
  const auto moves = h.load(0, 5, 0, ids, one_run(kDram, 0, 2), 1.0);
  REQUIRE(moves.size() == 2);
  CHECK(moves[0].kind == MoveKind::place);
  const auto& dram = store_of(h, 0, TierKind::dram);
  CHECK(dram.occupancy() == 0);
  CHECK(dram.counters().removed_blocks == 2);
  CHECK(h.match(1, ids, 0, 2).empty());  // gone for the node's other instance too
  // HBM evicts them later: both are written again, 200 B as 100 B from each of 2 shards.
  const auto again = h.evicted(0, blocks_of({1, 2}), 2.0);
  REQUIRE(again.size() == 2);
  CHECK(again[0].kind == MoveKind::demote);
  CHECK(again[0].blocks == 2);
  CHECK(again[0].bytes == 100);
  CHECK(dram.counters().inserted_blocks == 4);
  CHECK(dram.counters().written_bytes == 400);

  // Inclusive: the tier keeps them, so the eviction after the load writes nothing.
  TierHierarchy inclusive(spec_of({level(TierKind::dram, 4)}));
  inclusive.evicted(0, blocks_of({1, 2}), 0.0);
  inclusive.load(0, 5, 0, ids, one_run(kDram, 0, 2), 1.0);
  CHECK(inclusive.evicted(0, blocks_of({1, 2}), 2.0).empty());
  CHECK(store_of(inclusive, 0, TierKind::dram).counters().written_bytes == 200);
}

TEST_CASE("tier audit: the lower-tier match starts where the HBM hit ends and stops at the first block no tier holds") {
  TierHierarchy h(spec_of({level(TierKind::dram, 8)}));
  h.evicted(0, blocks_of({11, 13, 14}), 0.0);
  // Prompt 10 11 12 13 14: HBM holds 10 (matched = 1); 11 is in DRAM, 12 nowhere, so 13 and
  // 14 (in DRAM, after the gap) cannot be used: their KV depends on 12, which must be
  // computed first (vLLM's connectors and LMCache look up a contiguous prefix as well).
  const std::vector<BlockId> ids{10, 11, 12, 13, 14};
  const auto runs = h.match(0, ids, 1, 5);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].tier == kDram);
  CHECK(runs[0].first == 1);
  CHECK(runs[0].count == 1);
  // HBM holds 10 and 11: the lower match begins at 12, which no tier holds.
  CHECK(h.match(0, ids, 2, 5).empty());
}

TEST_CASE("tier audit: per-tier counters over a hand-built sequence of evictions, lookups, loads and write-throughs") {
  // tp 1; DRAM of 2 blocks (LRU) above an SSD of 4, both taking demotions.
  TierHierarchy h(spec_of({level(TierKind::dram, 2), level(TierKind::ssd, 4)}, 1, {0}));
  const auto& dram = store_of(h, 0, TierKind::dram);
  const auto& ssd = store_of(h, 0, TierKind::ssd);
  // 1. HBM evicts 1, 2, 3: DRAM writes all three, dropping 1 (least recent) to the SSD.
  const auto first = h.evicted(0, blocks_of({1, 2, 3}), 0.0);
  REQUIRE(first.size() == 2);
  CHECK(first[0].bytes == 300);
  CHECK(first[1].from_tier == kDram);
  CHECK(first[1].to_tier == kSsd);
  CHECK(first[1].bytes == 100);
  // 2. A prompt 2 3 1 4 5 misses HBM entirely: 2, 3 in DRAM, 1 on the SSD, 4 nowhere.
  const std::vector<BlockId> ids{2, 3, 1, 4, 5};
  const auto runs = h.match(0, ids, 0, 5);
  REQUIRE(runs.size() == 2);
  h.note_admission(0, runs, 5, true);
  const auto moves = h.load(0, 8, 0, ids, runs, 1.0);
  h.load_finished(0, 8);
  REQUIRE(moves.size() == 2);
  CHECK(moves[0].bytes == 200);
  CHECK(moves[1].bytes == 100);
  // 3. The same prompt again, recomputed instead (loaded = false).
  h.note_admission(0, runs, 5, false);
  // 4. HBM evicts 4 and 5: DRAM (2 and 3 were used at t=1) drops 2 then 3 to the SSD.
  h.evicted(0, blocks_of({4, 5}), 2.0);

  CHECK(dram.counters().lookup_blocks == 10);  // 5 per admission
  CHECK(dram.counters().hit_blocks == 4);      // 2 per admission
  CHECK(dram.counters().loaded_blocks == 2);   // the first only
  CHECK(dram.counters().loaded_bytes == 200);
  CHECK(dram.counters().inserted_blocks == 5);  // 1 2 3, then 4 5
  CHECK(dram.counters().written_bytes == 500);
  CHECK(dram.counters().evicted_blocks == 3);  // 1, then 2 and 3
  CHECK(ssd.counters().lookup_blocks == 6);    // 3 per admission missed DRAM
  CHECK(ssd.counters().hit_blocks == 2);
  CHECK(ssd.counters().loaded_blocks == 1);
  CHECK(ssd.counters().loaded_bytes == 100);
  CHECK(ssd.counters().inserted_blocks == 3);  // 1, 2, 3
  CHECK(ssd.counters().written_bytes == 300);
  CHECK(ssd.counters().evicted_blocks == 0);
  CHECK(dram.occupancy() == 2);
  CHECK(ssd.occupancy() == 3);
}

TEST_CASE("tier audit: completion admission writes a finished prompt from every GPU shard, once") {
  TierHierarchy h(spec_of({level(TierKind::dram, 8, "completion")}));
  const std::vector<BlockId> prompt{1, 2, 3};
  const auto writes = h.completed(0, prompt, 0, 1.0);
  REQUIRE(writes.size() == 2);
  CHECK(writes[0].kind == MoveKind::write_through);
  CHECK(writes[0].from_tier == kHbm);
  CHECK(writes[0].from_location == 0);
  CHECK(writes[1].from_location == 1);
  CHECK(writes[0].bytes == 150);
  // Evictions are not demoted into a completion tier.
  CHECK(h.evicted(0, blocks_of({7}), 2.0).empty());
  // The second instance of the node finishes the same prompt: nothing is written again.
  CHECK(h.completed(1, prompt, 0, 3.0).empty());
  CHECK(store_of(h, 0, TierKind::dram).counters().written_bytes == 300);
}

TEST_CASE("tier audit: second_touch admits a block on its second demotion, one write per admitted block") {
  TierHierarchy h(spec_of({level(TierKind::dram, 4, "second_touch")}, 1, {0}));
  CHECK(h.evicted(0, blocks_of({1, 2}), 0.0).empty());  // first demotion: history only
  const auto second = h.evicted(0, blocks_of({2, 3}), 1.0);
  // 2 is seen again and admitted; 3 is new and only remembered.
  REQUIRE(second.size() == 1);
  CHECK(second[0].blocks == 1);
  CHECK(second[0].bytes == 100);
  const auto& dram = store_of(h, 0, TierKind::dram);
  CHECK(dram.contains(2));
  CHECK_FALSE(dram.contains(3));
  CHECK_FALSE(dram.contains(1));
}

TEST_CASE("tier audit: DRAM and SSD runs of one load share the GPUs' PCIe links, so their PCIe times add up") {
  // A fast drive (1000 B/s): 2 blocks in DRAM and 2 on the SSD, at tp 2. Each GPU's PCIe
  // link carries its shard of both runs, 100 B + 100 B at 25 B/s: 8 s, + 0.25 s of latency;
  // the drive needs only 200 / 1000 = 0.2 s. Taken apart, each run alone would take
  // 4.25 s, which is what the estimate said before it added the PCIe shares up.
  TierHierarchy h(spec_of({level(TierKind::dram, 2), level(TierKind::ssd, 8)}));
  h.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);  // DRAM keeps 3 4, the SSD takes 1 2
  const std::vector<BlockId> ids{3, 4, 1, 2};
  const auto runs = h.match(0, ids, 0, 4);
  REQUIRE(runs.size() == 2);
  REQUIRE(runs[0].tier == kDram);
  REQUIRE(runs[1].tier == kSsd);
  CHECK(h.estimate_load_time(0, runs) == 8.25);
  // Recomputing in 6 s beats that load.
  CHECK_FALSE(h.should_load(0, runs, 6.0));
  // A slow drive (40 B/s: 5 s for its 200 B) still finishes before the shared PCIe (8 s).
  auto slow = level(TierKind::ssd, 8);
  slow.read_bandwidth = 40;
  TierHierarchy drive(spec_of({level(TierKind::dram, 2), slow}));
  drive.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  CHECK(drive.estimate_load_time(0, runs) == 8.25);
  // A very slow drive (10 B/s: 20 s) bounds the load itself.
  slow.read_bandwidth = 10;
  TierHierarchy slower(spec_of({level(TierKind::dram, 2), slow}));
  slower.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  CHECK(slower.estimate_load_time(0, runs) == 20.25);
}

TEST_CASE("tier audit: a tier smaller than one block takes nothing, so no bytes move into it") {
  // capacity_blocks is the configured capacity over the block size, rounded down: a tier of
  // less than one block keeps nothing, so writing to it would move and count bytes for
  // blocks that are not there.
  TierHierarchy h(spec_of({level(TierKind::dram, 0), level(TierKind::ssd, 0, "completion")}));
  CHECK(h.evicted(0, blocks_of({1, 2}), 0.0).empty());
  const std::vector<BlockId> prompt{1, 2};
  CHECK(h.completed(0, prompt, 0, 1.0).empty());
  CHECK(store_of(h, 0, TierKind::dram).counters().written_bytes == 0);
  CHECK(store_of(h, 0, TierKind::ssd).counters().written_bytes == 0);
  CHECK(h.match(0, prompt, 0, 2).empty());
}

TEST_CASE("tier audit: a load whose runs come back to a tier counts once among that tier's loads in flight") {
  // DRAM of 2 blocks above an SSD: HBM evicts 1 2 3, DRAM keeps 2 3, the SSD takes 1. A
  // prompt 2 1 3 is found as DRAM, SSD, DRAM: two DRAM runs of one load, one request.
  TierHierarchy h(spec_of({level(TierKind::dram, 2), level(TierKind::ssd, 8)}));
  h.evicted(0, blocks_of({1, 2, 3}), 0.0);
  const std::vector<BlockId> ids{2, 1, 3};
  const auto runs = h.match(0, ids, 0, 3);
  REQUIRE(runs.size() == 3);
  h.load(0, 8, 0, ids, runs, 1.0);
  // Another DRAM load of 1 block: 100 B / 2 / 25 B/s = 2 s + 0.25 s, doubled for the one
  // load in flight from DRAM (not tripled as if it were two loads).
  const auto next = one_run(kDram, 0, 1);
  CHECK(h.estimate_load_time(0, next) == 4.5);
  h.load_finished(0, 8);
  CHECK(h.estimate_load_time(0, next) == 2.25);
}

TEST_CASE("tier audit: loads of the node's other instances in flight from its SSD share the drive") {
  // Two instances of one node, one SSD at 40 B/s. A 4-block load (400 B) alone takes
  // max(400 / 40, 400 / 2 / 25) = 10 s + 0.25 s. While instance 1 loads from the same drive,
  // instance 0's load gets half of it: 400 B at 20 B/s = 20 s + 0.25 s; its own PCIe links
  // are not shared (8 s).
  auto slow = level(TierKind::ssd, 8);
  slow.read_bandwidth = 40;
  TierHierarchy h(spec_of({slow}));
  h.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  const std::vector<BlockId> ids{1, 2, 3, 4};
  const auto runs = one_run(kSsd, 0, 4);
  CHECK(h.estimate_load_time(0, runs) == 10.25);
  h.load(1, 3, 0, ids, runs, 1.0);
  CHECK(h.estimate_load_time(0, runs) == 20.25);
  h.load_finished(1, 3);
  CHECK(h.estimate_load_time(0, runs) == 10.25);
  // Instances of another node have a drive of their own.
  auto two_nodes = spec_of({slow}, 2, {0, 1});
  two_nodes.nodes = 2;
  TierHierarchy two(two_nodes);
  two.evicted(1, blocks_of({1, 2, 3, 4}), 0.0);
  two.evicted(0, blocks_of({1, 2, 3, 4}), 0.0);
  two.load(1, 3, 0, ids, runs, 1.0);
  CHECK(two.estimate_load_time(0, runs) == 10.25);
}

TEST_CASE("tier audit: a load moves one transfer per tier and GPU shard, however many runs the prefix has there") {
  // README and DESIGN: one Comm per request, tier and GPU shard. DRAM of 2 blocks above an
  // SSD: HBM evicts 1 2 3, DRAM keeps 2 3, the SSD takes 1; the prompt 2 1 3 is found as
  // DRAM, SSD, DRAM. At tp 2: DRAM's 2 blocks as 100 B per shard, the SSD's 1 as 50 B.
  TierHierarchy h(spec_of({level(TierKind::dram, 2), level(TierKind::ssd, 8)}));
  h.evicted(0, blocks_of({1, 2, 3}), 0.0);
  const std::vector<BlockId> ids{2, 1, 3};
  const auto runs = h.match(0, ids, 0, 3);
  REQUIRE(runs.size() == 3);
  const auto moves = h.load(0, 8, 0, ids, runs, 1.0);
  REQUIRE(moves.size() == 4);
  for (int g = 0; g < 2; ++g) {
    const auto& dram = moves[std::size_t(g)];
    CHECK(dram.from_tier == kDram);
    CHECK(dram.to_location == g);
    CHECK(dram.blocks == 2);
    CHECK(dram.bytes == 100);
    const auto& ssd = moves[std::size_t(2 + g)];
    CHECK(ssd.from_tier == kSsd);
    CHECK(ssd.to_location == g);
    CHECK(ssd.blocks == 1);
    CHECK(ssd.bytes == 50);
  }
  CHECK(store_of(h, 0, TierKind::dram).counters().loaded_bytes == 200);
  CHECK(store_of(h, 0, TierKind::ssd).counters().loaded_bytes == 100);
}
