// The tier hierarchy below HBM (models/kvcache/tier_hierarchy.*) as pure code: the Moves it
// returns for demotions, write-throughs and loads, worked out by hand from the rules (a
// tier takes what its admission rule admits; what it evicts goes to the next tier down; a
// load is one move per run and GPU shard; an exclusive tier gives its blocks up), without
// SimGrid.
#include <doctest/doctest.h>

#include <vector>

#include "models/kvcache/tier_hierarchy.hpp"

using namespace kvsim::kvcache;

namespace {

constexpr double kBlockBytes = 100;

TierLevelSpec level(TierKind kind, std::uint64_t capacity, const std::string& admission = "demotion") {
  TierLevelSpec l;
  l.kind = kind;
  l.capacity_blocks = capacity;
  l.admission = admission;
  l.scope = kind == TierKind::remote ? "cluster" : "node";
  return l;
}

// Two instances at TP=2 on one node unless told otherwise.
HierarchySpec spec_of(std::vector<TierLevelSpec> levels, std::vector<int> nodes = {0, 0}, int node_count = 1) {
  HierarchySpec s;
  s.levels = std::move(levels);
  s.instance_nodes = std::move(nodes);
  s.nodes = node_count;
  s.tp = 2;
  s.block_bytes = kBlockBytes;
  return s;
}

std::vector<EvictedBlock> blocks_of(std::vector<kvsim::workload::BlockId> ids) {
  std::vector<EvictedBlock> out;
  for (std::size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], std::uint32_t(i), 0});
  return out;
}

const TierStore& store_of(const TierHierarchy& h, int instance, TierKind kind) {
  return *h.stores()[std::size_t(h.serving(instance)[std::size_t(kind)])].store;
}

void check_move(const Move& m, MoveKind kind, int from_tier, int from_location, int to_tier, int to_location,
                std::uint64_t blocks, double bytes, std::uint64_t request = Move::kNoRequest) {
  CHECK(m.kind == kind);
  CHECK(m.from_tier == from_tier);
  CHECK(m.from_location == from_location);
  CHECK(m.to_tier == to_tier);
  CHECK(m.to_location == to_location);
  CHECK(m.blocks == blocks);
  CHECK(m.bytes == bytes);
  CHECK(m.request == request);
}

constexpr int kDram = int(TierKind::dram);
constexpr int kSsd = int(TierKind::ssd);
constexpr int kRemote = int(TierKind::remote);

}  // namespace

TEST_CASE("tier hierarchy: HBM evictions are demoted to DRAM, and DRAM's own evictions on to the SSD") {
  TierHierarchy h(spec_of({level(TierKind::dram, 2), level(TierKind::ssd, 10)}));
  const auto evicted = blocks_of({1, 2, 3});
  const auto moves = h.evicted(0, evicted, 1.0);
  // DRAM (2 blocks, LRU) takes 1, 2, then drops 1 for 3: 3 blocks written from HBM, one move
  // per GPU shard of 300 B / 2; then block 1 goes DRAM -> SSD in one move of 100 B.
  REQUIRE(moves.size() == 3);
  check_move(moves[0], MoveKind::demote, kHbm, 0, kDram, 0, 3, 150);
  check_move(moves[1], MoveKind::demote, kHbm, 1, kDram, 0, 3, 150);
  check_move(moves[2], MoveKind::demote, kDram, 0, kSsd, 0, 1, 100);
  const auto& dram = store_of(h, 0, TierKind::dram);
  const auto& ssd = store_of(h, 0, TierKind::ssd);
  CHECK_FALSE(dram.contains(1));
  CHECK(dram.contains(2));
  CHECK(dram.contains(3));
  CHECK(ssd.contains(1));
  CHECK(dram.counters().written_bytes == 300);
  CHECK(dram.counters().evicted_blocks == 1);
  CHECK(ssd.counters().written_bytes == 100);

  // A block DRAM already holds is only refreshed: no bytes move for it.
  const auto again = blocks_of({3});
  CHECK(h.evicted(1, again, 2.0).empty());  // instance 1 shares the node's DRAM
  CHECK(dram.counters().written_bytes == 300);
}

TEST_CASE("tier hierarchy: the demotion chain runs DRAM -> SSD -> remote, one move per hop") {
  auto remote = level(TierKind::remote, 10);
  remote.servers = 2;
  TierHierarchy h(spec_of({level(TierKind::dram, 1), level(TierKind::ssd, 1), remote}));
  const auto first = blocks_of({1, 2});
  const auto warm = h.evicted(0, first, 0.0);
  // DRAM (1 block) takes 1, then 2 pushes 1 down to the empty SSD.
  REQUIRE(warm.size() == 3);
  check_move(warm[2], MoveKind::demote, kDram, 0, kSsd, 0, 1, 100);
  const auto second = blocks_of({3});
  const auto moves = h.evicted(0, second, 1.0);
  // 3 pushes 2 to the SSD, which pushes 1 to the server of block 1: 1 % 2 = 1.
  REQUIRE(moves.size() == 4);
  check_move(moves[0], MoveKind::demote, kHbm, 0, kDram, 0, 1, 50);
  check_move(moves[1], MoveKind::demote, kHbm, 1, kDram, 0, 1, 50);
  check_move(moves[2], MoveKind::demote, kDram, 0, kSsd, 0, 1, 100);
  check_move(moves[3], MoveKind::demote, kSsd, 0, kRemote, 1, 1, 100);
  CHECK(store_of(h, 0, TierKind::dram).contains(3));
  CHECK(store_of(h, 0, TierKind::ssd).contains(2));
  CHECK(store_of(h, 0, TierKind::remote).contains(1));
}

TEST_CASE("tier hierarchy: a lookup walks the tiers nearest first and counts per-tier hits") {
  TierHierarchy h(spec_of({level(TierKind::dram, 4), level(TierKind::ssd, 4)}));
  const auto to_dram = blocks_of({10, 11});
  h.evicted(0, to_dram, 0.0);
  // DRAM of 4 blocks (LRU): the filler pushes 10, then 11, on to the SSD.
  const auto filler = blocks_of({20, 21, 22, 23});
  h.evicted(0, filler, 1.0);
  REQUIRE(store_of(h, 0, TierKind::ssd).contains(10));
  REQUIRE(store_of(h, 0, TierKind::ssd).contains(11));
  const std::vector<kvsim::workload::BlockId> ids{20, 21, 11, 99, 22};
  const auto runs = h.match(0, ids, 0, 5);
  // 20, 21 in DRAM, 11 in SSD, then 99 is nowhere: the prefix stops there.
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].tier == kDram);
  CHECK(runs[0].first == 0);
  CHECK(runs[0].count == 2);
  CHECK(runs[1].tier == kSsd);
  CHECK(runs[1].first == 2);
  CHECK(runs[1].count == 1);
  // max_blocks bounds the index, not the count: from block 1 below index 2 is 21 alone.
  const auto bounded = h.match(0, ids, 1, 2);
  REQUIRE(bounded.size() == 1);
  CHECK(bounded[0].count == 1);

  h.note_admission(0, runs, 5, true);
  const auto& dram = store_of(h, 0, TierKind::dram).counters();
  const auto& ssd = store_of(h, 0, TierKind::ssd).counters();
  CHECK(dram.lookup_blocks == 5);
  CHECK(dram.hit_blocks == 2);
  CHECK(dram.loaded_blocks == 2);
  CHECK(ssd.lookup_blocks == 3);  // what missed DRAM reaches the SSD
  CHECK(ssd.hit_blocks == 1);
  CHECK(ssd.loaded_blocks == 1);
  h.note_admission(0, runs, 5, false);  // recomputed instead: hits, no loads
  CHECK(dram.hit_blocks == 4);
  CHECK(dram.loaded_blocks == 2);
}

TEST_CASE("tier hierarchy: a load is one move per run and GPU shard, an exclusive tier gives its blocks up") {
  auto dram = level(TierKind::dram, 8);
  dram.exclusive = true;
  auto remote = level(TierKind::remote, 8, "completion");
  remote.servers = 3;
  TierHierarchy h(spec_of({dram, remote}));
  const auto evicted = blocks_of({4, 5});
  h.evicted(0, evicted, 0.0);  // into DRAM (demotion); remote takes write-throughs only
  const std::vector<kvsim::workload::BlockId> prompt{7, 8, 9};
  const auto writes = h.completed(1, prompt, 0, 1.0);
  // DRAM does not take write-throughs; remote does: 3 blocks from instance 1's two shards
  // to the server of the run's first block, 7 % 3 = 1.
  REQUIRE(writes.size() == 2);
  check_move(writes[0], MoveKind::write_through, kHbm, 0, kRemote, 1, 3, 150);
  check_move(writes[1], MoveKind::write_through, kHbm, 1, kRemote, 1, 3, 150);

  const std::vector<kvsim::workload::BlockId> ids{4, 5, 8, 9};
  const auto runs = h.match(0, ids, 0, 4);
  REQUIRE(runs.size() == 2);
  const auto moves = h.load(0, 42, 0, ids, runs, 2.0);
  // DRAM run (2 blocks, exclusive: a place) then remote run (2 blocks from server 8 % 3 = 2).
  REQUIRE(moves.size() == 4);
  check_move(moves[0], MoveKind::place, kDram, 0, kHbm, 0, 2, 100, 42);
  check_move(moves[1], MoveKind::place, kDram, 0, kHbm, 1, 2, 100, 42);
  check_move(moves[2], MoveKind::load, kRemote, 2, kHbm, 0, 2, 100, 42);
  check_move(moves[3], MoveKind::load, kRemote, 2, kHbm, 1, 2, 100, 42);
  CHECK_FALSE(store_of(h, 0, TierKind::dram).contains(4));
  CHECK_FALSE(store_of(h, 0, TierKind::dram).contains(5));
  CHECK(store_of(h, 0, TierKind::dram).counters().removed_blocks == 2);
  CHECK(store_of(h, 0, TierKind::remote).contains(8));  // inclusive: still there
  CHECK(store_of(h, 0, TierKind::dram).counters().loaded_bytes == 200);
  CHECK(store_of(h, 0, TierKind::remote).counters().loaded_bytes == 200);
}

TEST_CASE("tier hierarchy: admission rules decide what a tier takes, never leaves it untouched") {
  TierHierarchy h(spec_of({level(TierKind::dram, 8, "never"), level(TierKind::ssd, 8, "completion")}));
  const auto evicted = blocks_of({1, 2});
  // DRAM, the next tier down from HBM, takes nothing: the demotion chain stops there.
  CHECK(h.evicted(0, evicted, 0.0).empty());
  CHECK(store_of(h, 0, TierKind::dram).occupancy() == 0);
  CHECK(store_of(h, 0, TierKind::ssd).occupancy() == 0);
  const std::vector<kvsim::workload::BlockId> prompt{1, 2, 3, 4};
  const auto writes = h.completed(0, prompt, 0, 1.0);
  REQUIRE(writes.size() == 2);  // SSD only, one move per shard
  check_move(writes[0], MoveKind::write_through, kHbm, 0, kSsd, 0, 4, 200);
  CHECK(store_of(h, 0, TierKind::ssd).occupancy() == 4);
  // Written again: resident blocks are refreshed, not rewritten.
  CHECK(h.completed(1, prompt, 0, 2.0).empty());

  // second_touch: a block is admitted on its second demotion.
  TierHierarchy touch(spec_of({level(TierKind::dram, 8, "second_touch")}));
  CHECK(touch.evicted(0, evicted, 0.0).empty());
  const auto moves = touch.evicted(0, evicted, 1.0);
  REQUIRE(moves.size() == 2);
  CHECK(moves[0].blocks == 2);
}

TEST_CASE("tier hierarchy: node and instance scopes decide which instances share a store") {
  auto per_instance = level(TierKind::dram, 4);
  per_instance.scope = "instance";
  TierHierarchy own(spec_of({per_instance}, {0, 1}, 2));
  const auto evicted = blocks_of({5});
  const auto moves = own.evicted(1, evicted, 0.0);
  REQUIRE(moves.size() == 2);
  CHECK(moves[0].to_location == 1);  // instance 1's own DRAM
  const std::vector<kvsim::workload::BlockId> ids{5};
  CHECK(own.match(0, ids, 0, 1).empty());
  CHECK(own.match(1, ids, 0, 1).size() == 1);

  TierHierarchy shared(spec_of({level(TierKind::dram, 4)}, {0, 1, 1}, 2));
  CHECK(shared.stores().size() == 2);  // one per node
  shared.evicted(2, evicted, 0.0);     // instance 2 is on node 1
  CHECK(shared.match(1, ids, 0, 1).size() == 1);
  CHECK(shared.match(0, ids, 0, 1).empty());
  CHECK(shared.evicted(1, blocks_of({6}), 0.0)[0].to_location == 1);
}

TEST_CASE("tier hierarchy: load time estimate by hand, doubled while a load from the same tier is in flight") {
  auto s = spec_of({level(TierKind::dram, 8)});
  s.pcie_bandwidth = 50;  // B/s per GPU
  s.transfer_efficiency = 0.5;
  s.pcie_latency = 0.5;
  TierHierarchy h(s);
  const auto evicted = blocks_of({1, 2});
  h.evicted(0, evicted, 0.0);
  const std::vector<kvsim::workload::BlockId> ids{1, 2};
  const auto runs = h.match(0, ids, 0, 2);
  // 200 B over 2 GPUs at 50 x 0.5 = 25 B/s each: 4 s, plus 0.5 s of latency.
  CHECK(h.estimate_load_time(0, runs) == doctest::Approx(4.5));
  CHECK(h.should_load(0, runs, 5.0));
  h.load(0, 7, 0, ids, runs, 1.0);
  CHECK(h.estimate_load_time(0, runs) == doctest::Approx(9.0));
  CHECK(h.estimate_load_time(1, runs) == doctest::Approx(4.5));  // in flight per instance
  CHECK_FALSE(h.should_load(0, runs, 5.0));
  h.load_finished(0, 7);
  CHECK(h.estimate_load_time(0, runs) == doctest::Approx(4.5));

  s.rule = LoadRule::recompute;
  CHECK_FALSE(TierHierarchy(s).should_load(0, runs, 1e9));
  s.rule = LoadRule::load;
  CHECK(TierHierarchy(s).should_load(0, runs, 0.0));
  CHECK_THROWS_AS(load_rule("sometimes"), std::invalid_argument);
  CHECK_THROWS_AS(tier_kind("tape"), std::invalid_argument);
}
