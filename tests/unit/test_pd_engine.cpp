// The serving engine's prefill/decode disaggregation hooks as pure code
// (models/scheduling/serving_engine.hpp: EngineParams::prefill_only, enqueue_prefilled, the
// KvReceiver), and the summary's hand-off figures (sim/results/summary.cpp).
//
// Fake step-time model as in test_serving_engine.cpp: step = 1 s + new_tokens / 1024 s +
// context_tokens / 65536 s, dyadic, so step ends compare with ==.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "models/scheduling/routing/router_view.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "sim/results/records.hpp"
#include "workloads/request.hpp"
#include "tests/unit/fake_step_model.hpp"

using kvsim::compute::BatchShape;
using kvsim::compute::PerfModel;
using kvsim::compute::StepBreakdown;
using kvsim::scheduling::EngineParams;
using kvsim::scheduling::KvReceiver;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::workload::Request;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using kvsim::test::FakePerf;

// Records what the engine asked to pull.
class FakeReceiver final : public KvReceiver {
 public:
  void receive(std::uint64_t request, std::uint64_t tokens) override { pulls.push_back({request, tokens}); }
  struct Pull {
    std::uint64_t request, tokens;
  };
  std::vector<Pull> pulls;
};

EngineParams params(std::uint32_t blocks) {
  EngineParams p;
  p.block_size = 16;
  p.num_blocks = blocks;
  p.multi_step = false;
  return p;
}

Request request(std::uint64_t id, std::uint32_t input, std::uint32_t output, std::uint64_t first_block) {
  Request r;
  r.id = id;
  r.input_tokens = input;
  r.output_tokens = output;
  for (std::uint32_t b = 0; b < input / 16; ++b) r.blocks.push_back(first_block + b);
  return r;
}

}  // namespace

TEST_CASE("prefill-only engine: a request leaves at its first token, handed off, its blocks pinned until read") {
  FakePerf perf;
  auto p = params(100);
  p.prefill_only = true;
  ServingEngine engine(p, perf);
  engine.enqueue(request(7, 64, 10, 1000));
  REQUIRE(engine.plan(0, kInf));
  std::vector<Sequence> left;
  engine.apply(1, [&](const Sequence& s) { left.push_back(s); });
  REQUIRE(left.size() == 1);
  CHECK(left[0].handed_off);
  CHECK(left[0].first_token == 1.0 + 64.0 / 1024.0 + 64.0 / 65536.0);  // one prefill step of 64 tokens
  CHECK(left[0].finish == -1);
  CHECK(left[0].generated == 1);
  CHECK(left[0].computed == 64);
  CHECK(engine.idle());
  CHECK(engine.outstanding_tokens(10) == 0);  // the 9 tokens left are the decode side's work
  // Its 4 prompt blocks stay pinned until the decode side has read them, then are cached.
  CHECK(engine.handed_off_pinned() == 1);
  CHECK(engine.blocks().free_blocks() == 96);
  engine.release_handed_off(7);
  CHECK(engine.handed_off_pinned() == 0);
  CHECK(engine.blocks().free_blocks() == 100);
  CHECK(engine.blocks().match_prefix(request(8, 64, 1, 1000).blocks, 4) == 4);
  CHECK_THROWS_AS(engine.release_handed_off(7), std::logic_error);
}

TEST_CASE("prefill-only engine: a one-token request finishes there") {
  FakePerf perf;
  auto p = params(100);
  p.prefill_only = true;
  ServingEngine engine(p, perf);
  engine.enqueue(request(7, 64, 1, 1000));
  REQUIRE(engine.plan(0, kInf));
  std::vector<Sequence> left;
  engine.apply(1, [&](const Sequence& s) { left.push_back(s); });
  REQUIRE(left.size() == 1);
  CHECK_FALSE(left[0].handed_off);
  CHECK(left[0].finish == 1.0 + 64.0 / 1024.0 + 64.0 / 65536.0);
}

TEST_CASE("decode engine: a prefilled request reserves its blocks, pulls its context, then decodes") {
  FakePerf perf;
  FakeReceiver receiver;
  ServingEngine engine(params(100), perf);
  engine.set_receiver(&receiver);
  Sequence prefilled;
  prefilled.request = request(7, 70, 3, 1000);  // 4 full blocks + 6 tokens
  prefilled.computed = 70;
  prefilled.generated = 1;
  prefilled.first_token = 2.0;
  prefilled.cached_tokens = 32;
  engine.enqueue_prefilled(prefilled);
  CHECK(engine.outstanding_tokens(0) == 2);  // only the output left; the context is not work here

  // Admission at t=5: 5 blocks reserved, 70 tokens pulled, nothing to compute yet.
  CHECK_FALSE(engine.plan(5, kInf));
  REQUIRE(receiver.pulls.size() == 1);
  CHECK(receiver.pulls[0].request == 7);
  CHECK(receiver.pulls[0].tokens == 70);
  CHECK(engine.blocks().free_blocks() == 95);
  CHECK(engine.running() == 1);

  // KV arrived at t=6: two decode steps, reading 71 then 72 tokens of context.
  engine.load_done(7, 6);
  std::vector<Sequence> done;
  const double first_end = 6 + 1.0 + 1.0 / 1024.0 + 71.0 / 65536.0;
  REQUIRE(engine.plan(6, kInf));
  CHECK(engine.current_plan().end(0) == first_end);
  engine.apply(1, [&](const Sequence& s) { done.push_back(s); });
  REQUIRE(engine.plan(first_end, kInf));
  const double second = engine.current_plan().end(0);
  engine.apply(1, [&](const Sequence& s) { done.push_back(s); });
  REQUIRE(done.size() == 1);
  CHECK(second == first_end + 1.0 + 1.0 / 1024.0 + 72.0 / 65536.0);
  CHECK(done[0].finish == second);
  CHECK(done[0].first_token == 2.0);    // from the prefill side
  CHECK(done[0].cached_tokens == 32);   // the prefill side's hit, kept
  CHECK(done[0].generated == 3);
}

TEST_CASE("decode engine: cached context blocks are not pulled again, at least one token is") {
  FakePerf perf;
  FakeReceiver receiver;
  ServingEngine engine(params(100), perf);
  engine.set_receiver(&receiver);
  Sequence prefilled;
  prefilled.request = request(1, 64, 2, 1000);  // exactly 4 blocks
  prefilled.computed = 64;
  prefilled.generated = 1;
  prefilled.first_token = 1.0;
  engine.enqueue_prefilled(prefilled);
  CHECK_FALSE(engine.plan(0, kInf));
  engine.load_done(1, 1);
  REQUIRE(engine.plan(1, kInf));  // its one decode step; then it finishes
  engine.apply(1, [](const Sequence&) {});
  REQUIRE(engine.idle());
  // The same 64-token context again: its first 3 blocks are cached here (the 4th would
  // leave nothing to pull), so 16 tokens move.
  prefilled.request.id = 2;
  engine.enqueue_prefilled(prefilled);
  CHECK_FALSE(engine.plan(10, kInf));
  REQUIRE(receiver.pulls.size() == 2);
  CHECK(receiver.pulls[1].tokens == 16);
}

TEST_CASE("decode engine: without room the prefilled request waits, and is admitted once blocks free up") {
  FakePerf perf;
  FakeReceiver receiver;
  ServingEngine engine(params(6), perf);
  engine.set_receiver(&receiver);
  engine.enqueue(request(1, 64, 2, 1000));  // 4 blocks, then a 5th for its decode token
  REQUIRE(engine.plan(0, kInf));
  Sequence prefilled;
  prefilled.request = request(2, 64, 2, 5000);  // needs 4 blocks here
  prefilled.computed = 64;
  prefilled.generated = 1;
  engine.enqueue_prefilled(prefilled);
  engine.apply(1, [](const Sequence&) {});
  REQUIRE(engine.plan(2, kInf));  // request 1 decodes: 5 of 6 blocks in use, 1 free
  CHECK(receiver.pulls.empty());
  CHECK(engine.waiting() == 1);
  engine.apply(1, [](const Sequence&) {});  // request 1 finishes: its blocks become evictable
  CHECK_FALSE(engine.plan(5, kInf));
  REQUIRE(receiver.pulls.size() == 1);
  CHECK(receiver.pulls[0].request == 2);
}

TEST_CASE("summary: hand-off count, mean and p99 transfer time over completed requests of the window") {
  std::vector<kvsim::results::RequestRecord> rows(4);
  for (auto& r : rows) {
    r.status = kvsim::results::RequestStatus::completed;
    r.input_tokens = r.output_tokens = 2;
  }
  rows[0].kv_transfer_start = 1.0, rows[0].kv_transfer_end = 1.5;   // 0.5 s
  rows[1].kv_transfer_start = 2.0, rows[1].kv_transfer_end = 3.5;   // 1.5 s
  rows[2].kv_transfer_start = 4.0, rows[2].kv_transfer_end = 4.25;  // not counted: out of the window
  rows[2].in_window = 0;
  // rows[3] was not disaggregated (NaN columns).
  const auto s = kvsim::results::summarize(rows, 10.0, 1.0);
  CHECK(s.kv_handoffs == 2);
  CHECK(s.kv_transfer_mean == 1.0);
  CHECK(s.kv_transfer_p99 == 0.5 + 0.99 * 1.0);  // numpy linear: 0.5 + 0.99 x (1.5 - 0.5)
  const auto none = kvsim::results::summarize(std::span(rows).subspan(3), 10.0, 1.0);
  CHECK(none.kv_handoffs == 0);
  CHECK(none.kv_transfer_mean == 0);
}

TEST_CASE("prefill-only engine: outstanding tokens are the prompts it has still to compute, not their outputs") {
  // Two requests of 64 prompt tokens (10 and 30 output tokens, decoded elsewhere): 128
  // tokens of work, 64 once the first one's prefill step ends, none after the second's.
  FakePerf perf;
  auto p = params(100);
  p.prefill_only = true;
  p.max_num_batched_tokens = 64;
  ServingEngine engine(p, perf);
  CHECK(engine.work_of(request(1, 64, 10, 1000)) == 64.0);
  engine.enqueue(request(1, 64, 10, 1000));
  engine.enqueue(request(2, 64, 30, 2000));
  CHECK(engine.outstanding_tokens(0.0) == 128.0);
  REQUIRE(engine.plan(0, kInf));
  const double e1 = 1.0 + 64.0 / 1024.0 + 64.0 / 65536.0;
  CHECK(engine.current_plan().end(0) == e1);
  CHECK(engine.outstanding_tokens(e1 / 2) == 128.0);
  CHECK(engine.outstanding_tokens(e1) == 64.0);  // the first prompt's step has ended
  engine.apply(1, [](const Sequence&) {});
  CHECK(engine.outstanding_tokens(e1) == 64.0);
  REQUIRE(engine.plan(e1, kInf));
  engine.apply(1, [](const Sequence&) {});
  CHECK(engine.outstanding_tokens(2 * e1) == 0.0);
  CHECK(engine.idle());
}

TEST_CASE("mixed engine: work_of a request is its prompt and its output") {
  FakePerf perf;
  ServingEngine engine(params(100), perf);
  CHECK(engine.work_of(request(1, 64, 10, 1000)) == 74.0);
}

TEST_CASE("stale router loads: a request adds its prompt to a prefill instance, its output after the first token to a decode one, both to a mixed one") {
  FakePerf perf;
  auto p = params(100);
  p.prefill_only = true;
  ServingEngine prefill(p, perf);
  ServingEngine mixed(params(100), perf);
  ServingEngine decode(params(100), perf);
  FakeReceiver receiver;
  decode.set_receiver(&receiver);
  const ServingEngine* instances[] = {&prefill, &mixed, &decode};
  kvsim::scheduling::routing::LoadSnapshot snapshot(10.0);  // read at 0, stale until 10 s
  CHECK(snapshot.loads(instances, 0.0) == std::vector<double>{0.0, 0.0, 0.0});
  snapshot.sent(0, request(1, 64, 10, 1000));
  snapshot.sent(1, request(2, 64, 10, 2000));
  snapshot.sent(2, request(3, 64, 10, 3000));
  CHECK(snapshot.loads(instances, 1.0) == std::vector<double>{64.0, 74.0, 9.0});
}

TEST_CASE("decode engine: a handed-off request adds what work_of says to its outstanding tokens") {
  // The prefill side computed the 64-token prompt and the first of 10 output tokens.
  FakePerf perf;
  ServingEngine decode(params(100), perf);
  FakeReceiver receiver;
  decode.set_receiver(&receiver);
  Sequence prefilled;
  prefilled.request = request(4, 64, 10, 4000);
  prefilled.computed = 64;
  prefilled.generated = 1;
  prefilled.first_token = 1.0;
  decode.enqueue_prefilled(prefilled);
  CHECK(decode.work_of(prefilled.request) == 9.0);
  CHECK(decode.outstanding_tokens(0.0) == 9.0);
}
