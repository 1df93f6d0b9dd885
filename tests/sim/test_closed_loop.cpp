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
  scenario.workload.closed_loop = true;
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
  scenario.workload.closed_loop = true;
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

namespace {

// Four sessions of six turns whose trace times are 0.1 s apart, far closer than a turn takes
// on the saturated instance, next to 20 long unrelated requests: in the trace every
// follow-up arrives before its parent could have finished.
std::vector<workload::Request> long_sessions(double think) {
  std::vector<workload::Request> r;
  std::uint64_t id = 0;
  for (std::uint64_t i = 0; i < 20; ++i) r.push_back(test::make_request(id++, 0.001 * double(i), 2048, 300, {}));
  for (std::uint64_t s = 0; s < 4; ++s) {
    std::int64_t parent = -1;
    for (std::uint32_t turn = 1; turn <= 6; ++turn) {
      auto q = test::make_request(id, 0.05 + 0.1 * double(turn - 1) + 0.01 * double(s), 256 * turn, 50, {});
      q.session = 1000 + s;
      q.parent = parent;
      q.turn = turn;
      q.think_time = turn > 1 ? think : -1.0;
      parent = std::int64_t(id++);
      r.push_back(q);
    }
  }
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.arrival < b.arrival; });
  return r;
}

}  // namespace

TEST_CASE("closed loop: every turn of long sessions waits for its parent, however deep") {
  auto scenario = test::tiny_scenario();
  scenario.workload.closed_loop = true;
  const double think = 1.5;
  auto out = test::run_with(scenario, long_sessions(think));
  REQUIRE(out.requests.size() == 44);
  int follow_ups = 0;
  for (const auto& r : out.requests) {
    if (r.parent < 0) continue;
    ++follow_ups;
    const auto& parent = out.requests[std::size_t(r.parent)];  // rows are sorted by id
    REQUIRE(parent.id == std::uint64_t(r.parent));
    REQUIRE(parent.status == results::RequestStatus::completed);
    CAPTURE(r.id);
    CAPTURE(r.turn);
    // Exactly the think time after the parent's completion (the sum kvsim computes).
    CHECK(r.arrival == parent.finish + think);
  }
  CHECK(follow_ups == 20);
}

TEST_CASE("closed loop: generated multi-turn chat never releases a turn before its parent finishes") {
  // The measurement that found the bug: an overloaded instance, sessions of several turns.
  auto scenario = test::tiny_scenario({"workload.closed_loop=true", "workload.rate=20", "workload.num_requests=400",
                                       "workload.think_time=2s", "workload.turns_mean=6"});
  auto out = test::run_generated(scenario);
  std::unordered_map<std::uint64_t, const results::RequestRecord*> by_id;
  for (const auto& r : out.requests) by_id[r.id] = &r;
  int deep = 0, checked = 0;
  for (const auto& r : out.requests) {
    if (r.parent < 0 || r.status != results::RequestStatus::completed) continue;
    const auto* parent = by_id.at(std::uint64_t(r.parent));
    CAPTURE(r.id);
    REQUIRE(parent->status == results::RequestStatus::completed);
    CHECK(r.arrival >= parent->finish);
    ++checked;
    if (r.turn >= 3) ++deep;
  }
  CHECK(checked > 100);
  CHECK(deep > 30);
}
