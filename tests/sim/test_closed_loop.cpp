// Closed-loop replay: a follow-up turn is released its think time after its parent actually
// completes, so an overloaded instance delays conversations, as real users wait for answers.
#include <doctest/doctest.h>

#include <numeric>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

// Parent 0 at t=0, then 30 unrelated long requests that saturate the single instance, and
// the parent's follow-up turn (id 31) at t=1 s in the trace.
std::vector<workload::Request> conversation_under_load(double child_think_time) {
  std::vector<workload::Request> r{test::make_request(0, 0.0, 1024, 400, std::vector<std::uint64_t>(64, 1))};
  for (std::uint64_t i = 1; i <= 30; ++i) r.push_back(test::make_request(i, 0.001 * double(i), 4096, 400, {}));
  auto child = test::make_request(31, 1.0, 1100, 10, {});
  child.session = 0;
  child.parent = 0;
  child.turn = 2;
  child.think_time = child_think_time;
  r.push_back(child);
  return r;
}

}  // namespace

TEST_CASE("closed loop: a follow-up turn is released its known think time after its parent finishes") {
  auto scenario = test::tiny_scenario();
  scenario.closed_loop = true;
  auto out = test::run_with(scenario, conversation_under_load(2.0));
  const auto& parent = out.requests[0];
  const auto& child = out.requests[31];
  REQUIRE(parent.status == results::RequestStatus::completed);
  REQUIRE(child.status == results::RequestStatus::completed);
  CHECK(parent.finish > 1.0);  // the instance is saturated: the parent ends after the trace's turn
  CHECK(child.arrival == doctest::Approx(parent.finish + 2.0).epsilon(1e-12));
}

TEST_CASE("closed loop: without a known think time the trace gap minus the parent's solo latency is used") {
  auto scenario = test::tiny_scenario();
  scenario.closed_loop = true;
  auto out = test::run_with(scenario, conversation_under_load(-1.0));
  const auto& parent = out.requests[0];
  const auto& child = out.requests[31];
  // Alone, the parent takes its prefill plus 399 decode steps: more than the 1 s gap, so
  // the derived think time is 0 and the child follows its parent's completion at once.
  auto perf = compute::make_step_time_model(scenario.model, scenario.gpu, scenario.tp, scenario.compute);
  scheduling::ServingEngine engine(scenario.engine, *perf);
  const double solo = engine.solo_latency(test::make_request(0, 0.0, 1024, 400, {}));
  REQUIRE(solo > 1.0);
  CHECK(child.arrival == doctest::Approx(parent.finish).epsilon(1e-12));
}

TEST_CASE("open loop: the same follow-up turn arrives at its trace time regardless of load") {
  auto scenario = test::tiny_scenario();
  auto out = test::run_with(scenario, conversation_under_load(2.0));
  CHECK(out.requests[31].arrival == 1.0);
  CHECK(out.requests[0].finish > 1.0);
}
