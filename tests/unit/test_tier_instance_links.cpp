// The tier hierarchy with per-instance tp and link figures (HierarchySpec::instance_links,
// filled for [[instances]] groups): moves are sharded over each instance's own GPUs and the
// load-time estimate uses each instance's own PCIe and NIC figures, worked out by hand.
#include <doctest/doctest.h>

#include <vector>

#include "models/kvcache/tier_hierarchy.hpp"

using namespace kvsim::kvcache;

namespace {

constexpr double kBlockBytes = 1000;

TierLevelSpec level(TierKind kind, std::uint64_t capacity) {
  TierLevelSpec l;
  l.kind = kind;
  l.capacity_blocks = capacity;
  l.admission = "demotion";
  l.scope = kind == TierKind::remote ? "cluster" : "node";
  l.server_bandwidth = 1e12;  // remote: the servers never limit
  l.servers = 1;
  return l;
}

// Instance 0: tp=2, PCIe 10 GB/s, 1 us, NIC 4 GB/s per GPU, 5 us. Instance 1: tp=1, PCIe
// 20 GB/s, 3 us, NIC 8 GB/s, 7 us. The scalar figures (tp=4) must not be used.
HierarchySpec two_kinds() {
  HierarchySpec s;
  s.levels = {level(TierKind::dram, 100), level(TierKind::remote, 100)};
  s.instance_nodes = {0, 0};
  s.tp = 4;
  s.pcie_bandwidth = 1;
  s.block_bytes = kBlockBytes;
  s.rule = LoadRule::auto_choice;
  s.transfer_efficiency = 0.5;
  s.instance_links = {{2, 10e9, 1e-6, 4e9, 5e-6}, {1, 20e9, 3e-6, 8e9, 7e-6}};
  return s;
}

}  // namespace

TEST_CASE("tier links: a demotion is split over each instance's own tp") {
  TierHierarchy h(two_kinds());
  const std::vector<EvictedBlock> four{{1, 0, 0}, {2, 1, 0}, {3, 2, 0}, {4, 3, 0}};
  const auto tp2 = h.evicted(0, four, 0.0);
  REQUIRE(tp2.size() == 2);  // 4 blocks = 4000 B, 2000 B from each of instance 0's two GPUs
  CHECK(tp2[0].from_location == 0);
  CHECK(tp2[1].from_location == 1);
  CHECK(tp2[0].bytes == 2000);
  const std::vector<EvictedBlock> two{{5, 0, 0}, {6, 1, 0}};
  const auto tp1 = h.evicted(1, two, 1.0);
  REQUIRE(tp1.size() == 1);  // instance 1 has one GPU: one move of all 2000 B
  CHECK(tp1[0].from_location == 0);
  CHECK(tp1[0].bytes == 2000);
}

TEST_CASE("tier links: the load-time estimate uses each instance's own PCIe and NIC figures") {
  TierHierarchy h(two_kinds());
  const std::vector<TierRun> dram{{int(TierKind::dram), 0, 10}};  // 10 blocks = 10,000 B
  // Instance 0: 10,000 B / 2 GPUs / (10 GB/s x 0.5) + 1 us = 1 us + 1 us = 2 us.
  CHECK(h.estimate_load_time(0, dram) == doctest::Approx(2e-6));
  // Instance 1: 10,000 B / 1 GPU / (20 GB/s x 0.5) + 3 us = 1 us + 3 us = 4 us.
  CHECK(h.estimate_load_time(1, dram) == doctest::Approx(4e-6));
  const std::vector<TierRun> remote{{int(TierKind::remote), 0, 10}};
  // NIC: min(per-GPU NIC x tp, server) x 0.5; instance 0: 4 GB/s x 2 x 0.5 = 4 GB/s:
  // 10,000 B / 4 GB/s + 5 us = 2.5 us + 5 us; instance 1: 8 GB/s x 0.5: 2.5 us + 7 us.
  CHECK(h.estimate_load_time(0, remote) == doctest::Approx(7.5e-6));
  CHECK(h.estimate_load_time(1, remote) == doctest::Approx(9.5e-6));
}
