// Multi-step planning next to lower KV tiers (models/scheduling/serving_engine.cpp, plan()):
// a waiting request refused after its admission looked below HBM must not let the engine
// plan several steps, because what the tiers hold changes while the plan runs (another
// instance demotes into a shared DRAM, this instance's own step evicts into it) and a run
// found there can admit the request at the next step end, which is when a one-step-at-a-time
// scheduler looks again. Before this rule, an exclusive per-instance DRAM run
// (multi_step_matrix_dram_instance_load_1 without plan cuts at write completions) gave one
// request 960 HBM-hit tokens single-step and 640 multi-step.
//
// Step times come from the fake model (1 s + new/1024 s + context/65536 s); only plan
// lengths and admissions are checked here.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <vector>

#include "models/kvcache/backend.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "tests/unit/engine_requests.hpp"
#include "tests/unit/fake_step_model.hpp"
#include "tests/unit/null_tier.hpp"
#include "workloads/request.hpp"

using kvsim::kvcache::TierRun;
using kvsim::scheduling::EngineParams;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::test::chained_blocks;
using kvsim::test::engine_request;
using kvsim::workload::BlockId;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One lower tier whose contents the test sets; loads are always chosen over recompute.
class FakeTier final : public kvsim::test::NullTier {
 public:
  std::set<BlockId> held;
  std::vector<std::uint64_t> loads;  // requests whose load started
  std::vector<TierRun> match(std::span<const BlockId> ids, std::uint32_t from, std::uint32_t max_blocks) override {
    std::vector<TierRun> runs;
    std::uint32_t i = from;
    while (i < max_blocks && i < ids.size() && held.count(ids[i]) > 0) ++i;
    if (i > from) runs.push_back({0, from, i - from});
    return runs;
  }
  bool should_load(const std::vector<TierRun>&, double) override { return true; }
  void start_load(std::uint64_t request_id, std::uint16_t, std::span<const BlockId>,
                  const std::vector<TierRun>&) override {
    loads.push_back(request_id);
  }
};

// 10 blocks of 16 tokens. Request 1: 32-token prompt (2 blocks), 20 output tokens. Request
// 2: 160-token prompt (10 blocks), which never fits beside request 1 when recomputed.
struct Setup {
  kvsim::test::FakePerf perf;
  FakeTier tier;
  ServingEngine engine;
  explicit Setup(bool with_waiting) : engine(params(), perf) {
    engine.set_backend(&tier);
    engine.enqueue(engine_request(1, 32, 20, chained_blocks(100, 2)));
    if (with_waiting) engine.enqueue(engine_request(2, 160, 2, chained_blocks(200, 10)));
  }
  static EngineParams params() {
    EngineParams p;
    p.block_size = 16;
    p.num_blocks = 10;
    return p;
  }
};

const auto kIgnore = [](const Sequence&) {};

}  // namespace

TEST_CASE("multi-step with lower tiers: a head refused after a tier lookup gets one step per plan") {
  Setup s(true);
  // Plan 1 admits request 1 (its 32-token prefill, 2 blocks); request 2 needs 10 blocks, 8
  // are free: refused.
  REQUIRE(s.engine.plan(0.0, kInf));
  CHECK(s.engine.current_plan().size() == 1);
  CHECK(s.engine.waiting() == 1);
  double now = s.engine.current_plan().end(0);
  s.engine.apply(1, kIgnore);
  // Plan 2: request 1 decodes (a third block: 7 free, all empty), request 2 is refused again
  // after looking below HBM (found nothing). Without the rule the decode-only batch would be
  // planned for request 1's 19 remaining tokens at once (its next 19 tokens fit in the 7
  // empty blocks); with it, one step.
  REQUIRE(s.engine.plan(now, kInf));
  CHECK(s.engine.waiting() == 1);
  CHECK(s.engine.running() == 1);
  CHECK(s.engine.blocks().free_blocks() == 7);
  CHECK(s.engine.current_plan().size() == 1);
  now = s.engine.current_plan().end(0);
  s.engine.apply(1, kIgnore);
  // Meanwhile another instance demoted request 2's first 3 blocks into the shared tier: a
  // load needs only those 3 blocks now, so the next step end admits it (loading).
  for (const BlockId id : chained_blocks(200, 3)) s.tier.held.insert(id);
  REQUIRE(s.engine.plan(now, kInf));
  CHECK(s.engine.waiting() == 0);
  CHECK(s.engine.running() == 2);
  CHECK(s.tier.loads == std::vector<std::uint64_t>{2});
}

TEST_CASE("multi-step with lower tiers: a plan that asked no tier still spans the decode") {
  Setup s(false);
  REQUIRE(s.engine.plan(0.0, kInf));  // request 1's prefill; its admission asked the tier
  CHECK(s.engine.current_plan().size() == 1);
  const double now = s.engine.current_plan().end(0);
  s.engine.apply(1, kIgnore);
  // Nothing waits, nothing is looked up: the 19 remaining decode steps form one plan.
  REQUIRE(s.engine.plan(now, kInf));
  CHECK(s.engine.current_plan().size() == 19);
}
