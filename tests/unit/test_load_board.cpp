// Known-answer tests of the routers' load board (models/scheduling/load_board.hpp): the
// figures it serves equal the engine's outstanding tokens (hand-derived here with the same
// fake step model as test_serving_engine.cpp), across planned step ends and after every
// engine call that changes them, also when two boards watch one engine.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "models/scheduling/load_board.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "workloads/request.hpp"

using kvsim::compute::BatchShape;
using kvsim::compute::PerfModel;
using kvsim::compute::StepBreakdown;
using kvsim::scheduling::EngineParams;
using kvsim::scheduling::LoadBoard;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::workload::Request;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Step = 1 s + new_tokens / 1024 s + context_tokens / 65536 s: dyadic, so step ends are exact.
class FakePerf final : public PerfModel {
 public:
  StepBreakdown breakdown(const BatchShape& batch) const override {
    StepBreakdown s;
    s.overhead = 1.0;
    s.linear = double(batch.new_tokens) / 1024.0;
    s.attention = batch.context_tokens / 65536.0;
    return s;
  }
};

double step(double new_tokens, double context_tokens) { return 1.0 + new_tokens / 1024.0 + context_tokens / 65536.0; }

Request make_request(std::uint64_t id, std::uint32_t input, std::uint32_t output) {
  Request r;
  r.id = id;
  r.input_tokens = input;
  r.output_tokens = output;
  return r;
}

}  // namespace

TEST_CASE("load board follows an engine through enqueue, planned step ends and apply") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  ServingEngine engine(p, perf);
  auto board = std::make_shared<LoadBoard>(1);
  engine.watch_load(board, 0);
  CHECK(board->load(0, engine, 0.0) == 0.0);
  // Read at the same instant after an enqueue: the entry must have been marked stale.
  engine.enqueue(make_request(1, 96, 4));
  CHECK(board->load(0, engine, 0.0) == 100.0);  // 96 prompt + 4 output tokens
  REQUIRE(engine.plan(0.0, kInf));
  const double e1 = step(96, 96);
  // Before the prefill step ends nothing is done; at its end 96 prompt tokens and one
  // output token are: 3 left. The board must notice the step end without an engine call.
  CHECK(board->load(0, engine, e1 / 2) == 100.0);
  CHECK(board->load(0, engine, e1) == 3.0);
  engine.apply(1, [](const Sequence&) {});
  CHECK(board->load(0, engine, e1) == 3.0);
  // Three decode steps planned at once: the figure drops by one at each end.
  REQUIRE(engine.plan(e1, kInf));
  REQUIRE(engine.current_plan().size() == 3);
  const double e2 = e1 + step(1, 97);
  const double e3 = e2 + step(1, 98);
  const double e4 = e3 + step(1, 99);
  CHECK(board->load(0, engine, e1) == 3.0);
  CHECK(board->load(0, engine, (e1 + e2) / 2) == 3.0);
  CHECK(board->load(0, engine, e2) == 2.0);
  CHECK(board->load(0, engine, e4) == 0.0);
  // Asked about an earlier instant again (below the cached interval), it reads afresh.
  CHECK(board->load(0, engine, e3) == 1.0);
  CHECK(board->load(0, engine, (e2 + e3) / 2) == 2.0);
  // A second request arriving mid-plan shows at once, on both of two boards watching.
  auto second = std::make_shared<LoadBoard>(2);
  engine.watch_load(second, 1);
  CHECK(second->load(1, engine, e3) == 1.0);
  engine.enqueue(make_request(2, 10, 2));
  CHECK(board->load(0, engine, e3) == 13.0);
  CHECK(second->load(1, engine, e3) == 13.0);
}

TEST_CASE("least index: the smallest value, ties to the lowest index, through single updates and a bulk assign") {
  using kvsim::scheduling::LeastIndex;
  LeastIndex one(1);
  CHECK(one.least() == 0);
  one.set(0, 5.0);
  CHECK(one.least() == 0);
  LeastIndex tree(5);  // padded to 8 leaves
  CHECK(tree.least() == 0);  // all +infinity: the lowest index
  tree.set(3, 2.0);
  CHECK(tree.least() == 3);
  tree.set(4, 2.0);
  CHECK(tree.least() == 3);  // tie: the lower index
  tree.set(1, 2.0);
  CHECK(tree.least() == 1);
  tree.set(1, 7.0);
  tree.set(3, 9.0);
  CHECK(tree.least() == 4);
  tree.set(0, -1.0);
  CHECK(tree.least() == 0);
  tree.assign({4.0, 3.0, 3.0, 8.0, 3.5});
  CHECK(tree.least() == 1);
  CHECK(tree.value(4) == 3.5);
  tree.set(1, 10.0);
  CHECK(tree.least() == 2);
}

TEST_CASE("load board orders its instances: least after refresh follows enqueues and planned step ends") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  std::vector<std::unique_ptr<ServingEngine>> engines;
  std::vector<const ServingEngine*> views;
  for (int i = 0; i < 3; ++i) {
    engines.push_back(std::make_unique<ServingEngine>(p, perf));
    views.push_back(engines.back().get());
  }
  auto board = std::make_shared<LoadBoard>(3);
  for (std::uint32_t i = 0; i < 3; ++i) engines[i]->watch_load(board, i);
  board->refresh(views, 0.0);
  CHECK(board->least() == 0);  // all idle: the lowest slot
  engines[0]->enqueue(make_request(1, 96, 4));  // 100 tokens
  engines[1]->enqueue(make_request(2, 10, 2));  // 12
  engines[2]->enqueue(make_request(3, 10, 2));  // 12
  board->refresh(views, 0.0);
  CHECK(board->least() == 1);  // 12 = 12: the lower slot
  CHECK(board->load(0) == 100.0);
  CHECK(board->load(2) == 12.0);
  // Instance 2 prefills its 10 tokens in one step and produces its first token at e: 1 left.
  REQUIRE(engines[2]->plan(0.0, kInf));
  const double e = step(10, 10);
  board->refresh(views, e / 2);
  CHECK(board->least() == 1);
  CHECK(board->load(2) == 12.0);
  // No engine call at e: the board notices the step end by itself.
  board->refresh(views, e);
  CHECK(board->least() == 2);
  CHECK(board->load(2) == 1.0);
  // Arrivals re-order the instances: 2 goes to 1 + 2001 tokens, 1 to 12 + 1001.
  engines[2]->enqueue(make_request(4, 2000, 1));
  board->refresh(views, e);
  CHECK(board->least() == 1);
  engines[1]->enqueue(make_request(5, 1000, 1));
  board->refresh(views, e);
  CHECK(board->least() == 0);
  CHECK(board->load(1) == 1013.0);
  CHECK(board->load(2) == 2002.0);
  // The slot read through load(slot, engine, t) agrees with the ordered view.
  CHECK(board->load(2, *engines[2], e) == 2002.0);
}
