// What a serving engine reports to its lower tiers about a waiting request's lookup below
// HBM (KvBackend::note_admission): every committed admission that looked below counts its
// lookup once, whether the blocks found were loaded or recomputed.
//
// The case, worked by hand: 12 blocks of 4 tokens, chunked prefill of at most 8 tokens a
// step. Request 1 (32-token prompt, no identities, 10 output tokens) prefills in 4 chunks
// and holds 8 blocks; its next step decodes token 33 and takes a ninth, leaving 3 free.
// Request 2 (24-token prompt, 6 identities) then misses HBM and looks up its first
// min(23 / 4, 24 / 4) = 5 blocks below, which the tier holds: loading them needs 5 free
// blocks, only 3 are free, so it is admitted by recomputing a chunk of 8 - 1 = 7 tokens
// (2 blocks). That lookup still happened: 5 blocks looked up, 5 found, none loaded.
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

using kvsim::kvcache::TierRun;
using kvsim::scheduling::EngineParams;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::test::chained_blocks;
using kvsim::test::engine_request;
using kvsim::workload::BlockId;

namespace {

// A tier below HBM that holds every block asked for, always prefers loading, and records
// the admissions reported to it.
class HoldsEverything final : public kvsim::test::NullTier {
 public:
  struct Noted {
    std::uint32_t looked_up;
    std::uint32_t found;
    bool loaded;
  };
  std::vector<Noted> noted;
  int loads = 0;
  std::vector<TierRun> match(std::span<const BlockId>, std::uint32_t from, std::uint32_t max_blocks) override {
    if (from >= max_blocks) return {};
    return {TierRun{0, from, max_blocks - from}};
  }
  bool should_load(const std::vector<TierRun>&, double) override { return true; }
  void note_admission(const std::vector<TierRun>& runs, std::uint32_t looked_up, bool loaded) override {
    std::uint32_t found = 0;
    for (const auto& r : runs) found += r.count;
    noted.push_back({looked_up, found, loaded});
  }
  void start_load(std::uint64_t, std::uint16_t, std::span<const BlockId>, const std::vector<TierRun>&) override {
    ++loads;
  }
};

}  // namespace

TEST_CASE("tier lookups: a load that does not fit, admitted by recomputing, still counts its lookup") {
  kvsim::test::FakePerf perf;
  HoldsEverything tier;
  EngineParams p;
  p.block_size = 4;
  p.num_blocks = 12;
  p.max_num_batched_tokens = 8;
  ServingEngine engine(p, perf);
  engine.set_backend(&tier);
  const auto ignore = [](const Sequence&) {};
  engine.enqueue(engine_request(1, 32, 10));
  double now = 0;
  for (int chunk = 0; chunk < 4; ++chunk) {  // request 1's prefill: 4 chunks of 8 tokens
    REQUIRE(engine.plan(now, std::numeric_limits<double>::infinity()));
    REQUIRE(engine.current_plan().size() == 1);
    now = engine.current_plan().end(0);
    engine.apply(1, ignore);
  }
  REQUIRE(engine.blocks().free_blocks() == 4);
  engine.enqueue(engine_request(2, 24, 1, chained_blocks(500, 6)));
  REQUIRE(engine.plan(now, std::numeric_limits<double>::infinity()));
  CHECK(engine.running() == 2);   // request 2 admitted...
  CHECK(tier.loads == 0);         // ...by recomputing
  CHECK(engine.blocks().free_blocks() == 1);  // 4 - 1 (token 33) - 2 (request 2's 7 tokens)
  REQUIRE(tier.noted.size() == 1);
  CHECK(tier.noted[0].looked_up == 5);
  CHECK(tier.noted[0].found == 5);
  CHECK_FALSE(tier.noted[0].loaded);
}
