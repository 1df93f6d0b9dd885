// Evictions inside multi-step plans (ServingEngine::next_eviction / evict_due,
// BlockManager::evict_cached): when lower tiers observe HBM's evictions, a decode-only plan
// with nothing waiting may take cached free blocks, and each step that needs one evicts at
// its start, in the policy's order, as a one-step-at-a-time scheduler would.
//
// The case, worked by hand: 9 blocks of 4 tokens, LRU. Request 1 (24-token prompt, 6
// blocks, one output token) runs and leaves its 6 prompt blocks cached, released tail
// first, so LRU evicts them from the tail: ids[5], ids[4], ids[3], ... Then sequences A (3
// prompt tokens, 10 output) and B (1 prompt token, 12 output) take a block each (blocks 6,
// 7), leaving 1 empty block and 6 cached free ones. Their decode plan has min(9, 11) = 9
// steps; step j computes token 4 + j of A and 2 + j of B, so A takes a block at steps 1
// and 5 (tokens 5, 9) and B at steps 3 and 7 (tokens 5, 9). Step 1 takes the empty block;
// steps 3, 5 and 7 evict one block each, at the ends of steps 2, 4 and 6.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "models/kvcache/backend.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "tests/unit/engine_requests.hpp"
#include "tests/unit/fake_step_model.hpp"
#include "tests/unit/null_tier.hpp"
#include "workloads/request.hpp"

using kvsim::kvcache::EvictedBlock;
using kvsim::scheduling::EngineParams;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::test::fake_step;
using kvsim::test::chained_blocks;
using kvsim::test::engine_request;
using kvsim::workload::BlockId;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A lower tier that holds nothing and records the evictions reported to it.
class RecordingTier final : public kvsim::test::NullTier {
 public:
  std::vector<BlockId> evicted_ids;
  void evicted(std::span<const EvictedBlock> blocks) override {
    for (const auto& b : blocks) evicted_ids.push_back(b.id);
  }
};

const auto kIgnore = [](const Sequence&) {};

// The engine at the start of A and B's decode plan (time t2, planned).
struct DecodePlan {
  kvsim::test::FakePerf perf;
  RecordingTier tier;
  ServingEngine engine;
  std::vector<BlockId> ids = chained_blocks(100, 6);
  double t2 = 0;
  explicit DecodePlan(bool refused_head = false) : engine(params(), perf) {
    engine.set_backend(&tier);
    engine.enqueue(engine_request(1, 24, 1, ids));
    REQUIRE(engine.plan(0.0, kInf));
    const double t1 = engine.current_plan().end(0);
    CHECK(t1 == doctest::Approx(fake_step(24, 24)));
    engine.apply(1, kIgnore);
    REQUIRE(engine.blocks().cached_blocks() == 6);
    engine.enqueue(engine_request(2, 3, 10));
    engine.enqueue(engine_request(3, 1, 12));
    REQUIRE(engine.plan(t1, kInf));
    t2 = engine.current_plan().end(0);
    CHECK(t2 == doctest::Approx(t1 + fake_step(4, 4)));
    engine.apply(1, kIgnore);
    REQUIRE(engine.blocks().empty_blocks() == 1);
    REQUIRE(engine.blocks().free_blocks() == 7);
    // A 32-token prompt needs 8 blocks, 7 are free: refused for memory (no tier lookup,
    // it has no block ids), it waits through the decode plan.
    if (refused_head) engine.enqueue(engine_request(4, 32, 1));
    REQUIRE(engine.plan(t2, kInf));
  }
  static EngineParams params() {
    EngineParams p;
    p.block_size = 4;
    p.num_blocks = 9;
    return p;
  }
  // End of decode step j (0-based) by hand: A's context is 4 + j, B's 2 + j.
  double step_end(int j) const {
    double t = t2;
    for (int i = 0; i <= j; ++i) t += fake_step(2, 6 + 2 * i);
    return t;
  }
};

}  // namespace

TEST_CASE("multi-step evictions: the plan spans the decode and evicts at the starts of steps 3, 5 and 7") {
  DecodePlan p;
  const auto& plan = p.engine.current_plan();
  REQUIRE(plan.size() == 9);
  CHECK(plan.end(8) == doctest::Approx(p.step_end(8)));
  CHECK(p.tier.evicted_ids.empty());
  // Step 1 takes the empty block: the first eviction is due at the end of step 2.
  CHECK(p.engine.next_eviction(9) == plan.end(2));
  CHECK(plan.end(2) == doctest::Approx(p.step_end(2)));
  // Nothing is due before then, and a plan kept to 3 steps has no eviction at all.
  p.engine.evict_due(plan.end(1));
  CHECK(p.tier.evicted_ids.empty());
  CHECK(p.engine.next_eviction(3) == kInf);
  p.engine.evict_due(plan.end(2));
  CHECK(p.tier.evicted_ids == std::vector<BlockId>{p.ids[5]});
  CHECK(p.engine.blocks().cached_blocks() == 5);
  CHECK(p.engine.next_eviction(9) == plan.end(4));
  p.engine.evict_due(plan.end(4));
  CHECK(p.engine.next_eviction(9) == plan.end(6));
  p.engine.evict_due(plan.end(6));
  CHECK(p.tier.evicted_ids == std::vector<BlockId>{p.ids[5], p.ids[4], p.ids[3]});
  CHECK(p.engine.next_eviction(9) == kInf);
  // apply takes the 4 blocks (the empty one and the 3 evicted) without evicting more.
  std::vector<std::uint64_t> finished;
  p.engine.apply(9, [&](const Sequence& s) { finished.push_back(s.request.id); });
  CHECK(finished == std::vector<std::uint64_t>{2});
  CHECK(p.tier.evicted_ids.size() == 3);
  CHECK(p.engine.blocks().cached_blocks() == 3);
  CHECK(p.engine.blocks().counters().evicted == 3);
}

TEST_CASE("multi-step evictions: a plan cut after 5 steps never evicts for steps 5 and 7") {
  DecodePlan p;
  const auto& plan = p.engine.current_plan();
  p.engine.evict_due(plan.end(2));
  // Woken inside step 4: the plan keeps 5 steps (StepPlan::cut_at).
  REQUIRE(plan.cut_at(0.5 * (plan.end(3) + plan.end(4))) == 5);
  CHECK(p.engine.next_eviction(5) == kInf);
  p.engine.apply(5, kIgnore);
  CHECK(p.tier.evicted_ids == std::vector<BlockId>{p.ids[5]});
  CHECK(p.engine.blocks().cached_blocks() == 5);
  CHECK(p.engine.blocks().empty_blocks() == 0);
}

TEST_CASE("multi-step evictions: apply performs the evictions of its steps that nobody ran") {
  DecodePlan p;
  p.engine.apply(7, kIgnore);  // steps 0-6: the evictions of steps 3 and 5
  CHECK(p.tier.evicted_ids == std::vector<BlockId>{p.ids[5], p.ids[4]});
  CHECK(p.engine.blocks().counters().evicted == 2);
}

TEST_CASE("multi-step evictions: with a request waiting the plan ends before its first eviction") {
  DecodePlan p(true);
  CHECK(p.engine.waiting() == 1);
  // Steps 0-2 fit in the empty block; step 3 would evict, and the evicted block could be
  // one the waiting request matched in HBM.
  CHECK(p.engine.current_plan().size() == 3);
  CHECK(p.engine.next_eviction(3) == kInf);
}

TEST_CASE("multi-step plan: HBM occupancy sampled inside the plan is a one-step-at-a-time scheduler's") {
  DecodePlan p;
  const auto& plan = p.engine.current_plan();
  // During step 0, 8 of the 9 blocks hold data (request 1's 6 cached, A's and B's one each).
  CHECK(p.engine.occupied_blocks_at((p.t2 + plan.end(0)) / 2) == 8);
  // Step 1 starts at end(0) and takes the empty block: 9. Steps 3, 5 and 7 each evict a
  // cached block and fill it again: still 9.
  CHECK(p.engine.occupied_blocks_at(plan.end(0)) == 9);
  p.engine.evict_due(plan.end(2));
  // The pool allocates steps 1.. at apply: step 1's empty block and the block just evicted
  // both wait empty, so the pool itself counts 7 where a one-step scheduler holds 9.
  CHECK(p.engine.blocks().occupied() == 7);
  CHECK(p.engine.occupied_blocks_at(plan.end(2)) == 9);
  CHECK(p.engine.occupied_blocks_at(plan.end(7)) == 9);
  // Applied: A has its 10 tokens and leaves; its 3 blocks carry no identities (no prompt
  // ids), so they are emptied, not cached: 6. With no plan, the pool's count is the answer.
  p.engine.apply(9, kIgnore);
  CHECK(p.engine.blocks().occupied() == 6);
  CHECK(p.engine.occupied_blocks_at(plan.end(8)) == 6);
}
