// The cap on multi-step plans (kMaxPlanSteps, serving_engine.cpp: 128 steps): a decode that could run
// uncut for 299 steps is planned in pieces of at most the cap, with the same step ends as
// one plan would have, each piece ending with the step the next one starts after.
//
// One request, a 16-token prompt and 300 output tokens, alone in a roomy pool, fake step
// model (1 s + new/1024 s + context/65536 s): the prefill ends at 1 + 16/1024 + 16/65536,
// then decode step j (0-based) reads a context of 17 + j tokens.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "models/scheduling/serving_engine.hpp"
#include "tests/unit/engine_requests.hpp"
#include "tests/unit/fake_step_model.hpp"

using kvsim::scheduling::EngineParams;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::test::engine_request;
using kvsim::test::fake_step;

TEST_CASE("multi-step cap: a 299-step decode is planned in pieces of at most the cap, same step ends") {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  kvsim::test::FakePerf perf;
  EngineParams params;
  params.num_blocks = 64;  // 316 tokens need 20 blocks of 16
  ServingEngine engine(params, perf);
  engine.enqueue(engine_request(1, 16, 300));
  REQUIRE(engine.plan(0.0, kInf));
  double now = engine.current_plan().end(0);
  CHECK(now == fake_step(16, 16));
  engine.apply(1, [](const Sequence&) {});

  // The first decode plan is cut by the cap, not by the request's end.
  REQUIRE(engine.plan(now, kInf));
  const auto cap = std::uint32_t(engine.current_plan().size());
  CHECK(cap == 128);  // then 128 and the last 43
  int finished = 0;
  std::uint32_t step = 0;  // decode steps applied so far
  double expected = now;   // end of decode step `step - 1`, summed by hand
  while (step < 299) {
    if (step > 0) REQUIRE(engine.plan(now, kInf));
    const auto& plan = engine.current_plan();
    const std::uint32_t left = 299 - step;
    CHECK(plan.size() == (left < cap ? left : cap));
    for (std::size_t j = 0; j < plan.size(); ++j) {
      expected += fake_step(1, double(17 + step + j));
      CHECK(plan.end(j) == expected);
    }
    now = plan.last_end();
    step += std::uint32_t(plan.size());
    engine.apply(plan.size(), [&](const Sequence& s) {
      ++finished;
      CHECK(s.generated == 300);
      CHECK(s.finish == now);
    });
  }
  CHECK(finished == 1);
  CHECK(engine.idle());
}
