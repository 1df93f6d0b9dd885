// Known-answer tests of one instance's serving engine (models/scheduling/serving_engine.cpp):
// step composition (prefill, chunked prefill, decode), prefix-cache hits, admission limits,
// preemption under KV pressure, outstanding-token accounting, and the property the
// simulator's speed rests on: planning several decode steps at once gives exactly the same
// times as planning one step at a time.
//
// The step-time model is a fake, step = 1 s + new_tokens / 1024 s + context_tokens / 65536 s.
// Every term is a dyadic fraction, so all step ends below are exact in binary floating point
// and are compared with ==, not approximately.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "sim/util/random.hpp"
#include "workloads/request.hpp"
#include "tests/unit/fake_step_model.hpp"

using kvsim::compute::BatchShape;
using kvsim::compute::PerfModel;
using kvsim::compute::StepBreakdown;
using kvsim::kvcache::BlockIndex;
using kvsim::scheduling::EngineParams;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::workload::BlockId;
using kvsim::workload::Request;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using kvsim::test::FakePerf;

double step(double new_tokens, double context_tokens) { return kvsim::test::fake_step(new_tokens, context_tokens); }

Request make_request(std::uint64_t id, double arrival, std::uint32_t input, std::uint32_t output,
                     std::vector<BlockId> blocks = {}) {
  Request r;
  r.id = id;
  r.arrival = arrival;
  r.input_tokens = input;
  r.output_tokens = output;
  r.blocks = std::move(blocks);
  return r;
}

// Chained identities for the given block contents.
std::vector<BlockId> chain(const std::vector<std::uint64_t>& contents) {
  std::vector<BlockId> ids;
  BlockId prefix = 0;
  for (std::uint64_t c : contents) ids.push_back(prefix = kvsim::workload::chain_block(prefix, c));
  return ids;
}

const Sequence* find_unfinished(const ServingEngine& engine, std::uint64_t id) {
  const Sequence* found = nullptr;
  engine.for_each_unfinished([&](const Sequence& s) {
    if (s.request.id == id) found = &s;
  });
  return found;
}

// Every block a block table names is referenced exactly once per table naming it, no
// other block is referenced, and referenced + free blocks make up the pool. This is what
// "a block used by a running request is never evicted" means from the outside: a block
// handed out again would be counted by two tables that do not share a cached prefix, or
// would show one reference too few.
void check_block_invariants(const ServingEngine& engine) {
  const auto& bm = engine.blocks();
  std::map<BlockIndex, std::uint32_t> uses;
  engine.for_each_unfinished([&](const Sequence& s) {
    for (BlockIndex b : s.table) ++uses[b];
  });
  std::uint32_t referenced = 0;
  for (BlockIndex b = 0; b < bm.capacity(); ++b) {
    const auto it = uses.find(b);
    const std::uint32_t expected = it == uses.end() ? 0 : it->second;
    if (bm.references(b) != expected) {
      FAIL_CHECK("block " << b << " has " << bm.references(b) << " references, tables name it " << expected
                          << " times");
    }
    if (bm.references(b) > 0) ++referenced;
  }
  CHECK(referenced + bm.free_blocks() == bm.capacity());
}

// Plans and applies whole plans until the engine is idle (no arrivals), checking the block
// invariants after every call. Returns the time at which the last plan ended.
double drain(ServingEngine& engine, double now, const ServingEngine::FinishCallback& on_finish) {
  for (int guard = 0; !engine.idle(); ++guard) {
    REQUIRE(guard < 100000);
    REQUIRE(engine.plan(now, kInf));
    check_block_invariants(engine);
    now = engine.current_plan().end(engine.current_plan().size() - 1);
    engine.apply(engine.current_plan().size(), on_finish);
    check_block_invariants(engine);
  }
  return now;
}

}  // namespace

TEST_CASE("serving engine: one request, prefill then all decode steps planned at once") {
  // 96-token prompt (6 blocks of 16), 4 output tokens, a roomy pool.
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(7, 0.0, 96, 4));
  CHECK(engine.waiting() == 1);
  CHECK_FALSE(engine.idle());
  CHECK(engine.outstanding_tokens(0.0) == 100.0);  // 96 prompt + 4 output

  // Step 1: the whole prompt, after no context: 96 new tokens, 96 KV tokens, one logit.
  REQUIRE(engine.plan(0.0, kInf));
  REQUIRE(engine.current_plan().size() == 1);
  const double e1 = step(96, 96);
  CHECK(engine.current_plan().end(0) == e1);
  CHECK(engine.last_shape().num_seqs == 1);
  CHECK(engine.last_shape().num_logits == 1);
  CHECK(engine.last_shape().new_tokens == 96);
  CHECK(engine.last_shape().context_tokens == 96.0);
  CHECK(engine.running() == 1);
  CHECK(engine.waiting() == 0);
  CHECK(engine.blocks().free_blocks() == 58);  // 6 prompt blocks taken
  // The step removes 96 prompt tokens and samples 1 token: 100 - 97 = 3 once it has ended.
  CHECK(engine.current_plan().done_by(e1 / 2) == 0);
  CHECK(engine.outstanding_tokens(e1 / 2) == 100.0);
  CHECK(engine.current_plan().done_by(e1) == 1);
  CHECK(engine.outstanding_tokens(e1) == 3.0);

  int finishes = 0;
  const auto on_finish = [&](const Sequence& s) {
    ++finishes;
    CHECK(s.request.id == 7);
    CHECK(s.generated == 4);
    CHECK(s.preemptions == 0);
    CHECK(s.cached_tokens == 0);
  };
  engine.apply(1, on_finish);
  CHECK(finishes == 0);
  const Sequence* seq = find_unfinished(engine, 7);
  REQUIRE(seq != nullptr);
  CHECK(seq->first_token == e1);
  CHECK(seq->generated == 1);
  CHECK(seq->computed == 96);
  CHECK(engine.outstanding_tokens(e1) == 3.0);

  // Decode: three identical-composition steps, planned together; the context read grows by
  // one token per step (97, 98, 99) and the 97th token needs a 7th block.
  REQUIRE(engine.plan(e1, kInf));
  REQUIRE(engine.current_plan().size() == 3);  // output_tokens - 1
  const double e2 = e1 + step(1, 97);
  const double e3 = e2 + step(1, 98);
  const double e4 = e3 + step(1, 99);
  CHECK(engine.current_plan().end(0) == e2);
  CHECK(engine.current_plan().end(1) == e3);
  CHECK(engine.current_plan().end(2) == e4);
  CHECK(engine.outstanding_tokens(e1) == 3.0);
  CHECK(engine.outstanding_tokens(e2) == 2.0);
  CHECK(engine.outstanding_tokens((e2 + e3) / 2) == 2.0);
  CHECK(engine.outstanding_tokens(e3) == 1.0);
  CHECK(engine.outstanding_tokens(e4) == 0.0);
  CHECK(engine.current_plan().done_by(e3) == 2);

  engine.apply(3, [&](const Sequence& s) {
    on_finish(s);
    CHECK(s.first_token == e1);
    CHECK(s.finish == e4);
  });
  CHECK(finishes == 1);
  CHECK(engine.idle());
  CHECK(engine.steps() == 4);
  CHECK(engine.outstanding_tokens(e4) == 0.0);
  CHECK(engine.blocks().free_blocks() == 64);
  CHECK(engine.blocks().counters().allocated == 7);  // ceil(97 / 16): the last token is never fed back
  CHECK_FALSE(engine.plan(e4, kInf));
}

TEST_CASE("serving engine: without multi-step the same request takes one plan per step, same ends") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  p.multi_step = false;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(1, 0.0, 96, 4));
  const std::vector<double> expected{step(96, 96), step(1, 97), step(1, 98), step(1, 99)};
  double now = 0.0;
  int finishes = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    REQUIRE(engine.plan(now, kInf));
    REQUIRE(engine.current_plan().size() == 1);
    CHECK(engine.current_plan().end(0) == now + expected[i]);
    now = engine.current_plan().end(0);
    engine.apply(1, [&](const Sequence& s) {
      ++finishes;
      CHECK(s.finish == now);
    });
  }
  CHECK(finishes == 1);
  CHECK(now == step(96, 96) + step(1, 97) + step(1, 98) + step(1, 99));
  CHECK(engine.idle());
}

TEST_CASE("serving engine: a multi-step plan stops at the time limit but always has one step") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(1, 0.0, 96, 4));
  REQUIRE(engine.plan(0.0, kInf));
  const double e1 = engine.current_plan().end(0);
  engine.apply(1, [](const Sequence&) {});
  const double e2 = e1 + step(1, 97), e3 = e2 + step(1, 98);
  // Limit exactly at the second decode end: steps ending at the limit are kept.
  REQUIRE(engine.plan(e1, e3));
  CHECK(engine.current_plan().size() == 2);
  CHECK(engine.current_plan().end(1) == e3);
  // A limit before the first end still plans the first step.
  REQUIRE(engine.plan(e1, e1));
  CHECK(engine.current_plan().size() == 1);
  CHECK(engine.current_plan().end(0) == e2);
}

TEST_CASE("serving engine: chunked prefill splits a 1000-token prompt into 256, 256, 256, 232") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 128;
  p.max_num_batched_tokens = 256;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(3, 0.0, 1000, 2));
  CHECK(engine.outstanding_tokens(0.0) == 1002.0);

  // ceil(1000 / 256) = 4 prefill steps; chunk k starts after the tokens of the previous ones.
  const std::vector<std::uint32_t> chunks{256, 256, 256, 232};
  const std::vector<std::size_t> table_blocks{16, 32, 48, 63};  // ceil(computed / 16)
  double now = 0.0, expected_end = 0.0, outstanding = 1002.0;
  std::uint32_t prior = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    REQUIRE(engine.plan(now, kInf));
    REQUIRE(engine.current_plan().size() == 1);  // prefill is never planned several steps ahead
    const BatchShape& shape = engine.last_shape();
    CHECK(shape.new_tokens == chunks[i]);
    CHECK(shape.context_tokens == double(prior + chunks[i]));
    CHECK(shape.attention_pairs == double(chunks[i]) * prior + double(chunks[i]) * (chunks[i] + 1) / 2.0);
    CHECK(shape.num_logits == (i + 1 == chunks.size() ? 1u : 0u));  // only the last chunk samples
    expected_end += step(chunks[i], prior + chunks[i]);
    CHECK(engine.current_plan().end(0) == expected_end);
    outstanding -= chunks[i] + (i + 1 == chunks.size() ? 1.0 : 0.0);
    CHECK(engine.outstanding_tokens(expected_end) == outstanding);
    now = engine.current_plan().end(0);
    engine.apply(1, [](const Sequence&) { FAIL("no request should finish during prefill"); });
    const Sequence* seq = find_unfinished(engine, 3);
    REQUIRE(seq != nullptr);
    CHECK(seq->table.size() == table_blocks[i]);
    CHECK(seq->first_token == (i + 1 == chunks.size() ? expected_end : -1.0));
    prior += chunks[i];
  }
  CHECK(engine.outstanding_tokens(now) == 1.0);
  // One decode step after 1000 tokens of context finishes it.
  REQUIRE(engine.plan(now, kInf));
  CHECK(engine.current_plan().end(0) == expected_end + step(1, 1001));
  int finishes = 0;
  engine.apply(1, [&](const Sequence& s) {
    ++finishes;
    CHECK(s.finish == expected_end + step(1, 1001));
  });
  CHECK(finishes == 1);
}

TEST_CASE("serving engine: without chunked prefill a request must fit the token budget even after preemption") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 128;
  p.max_num_batched_tokens = 256;
  p.chunked_prefill = false;
  ServingEngine engine(p, perf);
  // A request preempted after g tokens recomputes input + g <= input + output - 1 tokens in
  // one step, so that is what must fit 256 (the KV pool, 2048 tokens, is not the limit here).
  CHECK_FALSE(engine.can_ever_fit(make_request(1, 0.0, 1000, 2)));
  CHECK_FALSE(engine.can_ever_fit(make_request(1, 0.0, 200, 100)));  // 299 > 256
  CHECK(engine.can_ever_fit(make_request(1, 0.0, 200, 57)));         // 256
  CHECK_FALSE(engine.can_ever_fit(make_request(1, 0.0, 200, 58)));   // 257
  p.chunked_prefill = true;
  CHECK(ServingEngine(p, perf).can_ever_fit(make_request(1, 0.0, 1000, 2)));

  // Enqueued anyway (the simulator never does), such a prompt is never scheduled, and it
  // blocks the FCFS queue behind it: plan() reports that nothing can run.
  engine.enqueue(make_request(1, 0.0, 1000, 2));
  engine.enqueue(make_request(2, 0.0, 100, 2));
  CHECK_FALSE(engine.plan(0.0, kInf));
  CHECK(engine.running() == 0);
  CHECK(engine.waiting() == 2);
  CHECK(engine.blocks().free_blocks() == 128);

  // A prompt within the budget goes in whole, in one step.
  p.chunked_prefill = false;
  ServingEngine fits(p, perf);
  fits.enqueue(make_request(1, 0.0, 256, 2));
  REQUIRE(fits.plan(0.0, kInf));
  CHECK(fits.last_shape().new_tokens == 256);
  CHECK(fits.last_shape().num_logits == 1);
}

TEST_CASE("serving engine: without chunked prefill a preempted request is recomputed in one step") {
  // 28 blocks of 16 tokens, a 256-token budget, two requests of 200 + 56 tokens (peak 255,
  // accepted). r0 prefills alone (400 > 256); r1 joins in step 2 (1 + 200 <= 256), taking 13
  // of the 15 blocks left. Both decode until r0 reaches 225 tokens and needs a 15th block
  // with none free: r1, admitted last, is preempted after about 24 tokens; it recomputes
  // 224 or so tokens in one step once r0 has finished. Every request finishes.
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 28;
  p.max_num_batched_tokens = 256;
  p.chunked_prefill = false;
  ServingEngine engine(p, perf);
  for (std::uint64_t id = 0; id < 2; ++id) {
    const Request r = make_request(id, 0.0, 200, 56);
    REQUIRE(engine.can_ever_fit(r));
    engine.enqueue(r);
  }
  std::map<std::uint64_t, Sequence> done;
  drain(engine, 0.0, [&](const Sequence& s) { done.emplace(s.request.id, s); });
  REQUIRE(done.size() == 2);
  CHECK(done.at(0).preemptions == 0);
  CHECK(done.at(1).preemptions >= 1);
  CHECK(done.at(1).generated == 56);
}

TEST_CASE("serving engine: prefix caching reuses the leading blocks a finished request published") {
  const std::vector<BlockId> a = chain({10, 11, 12, 13, 14, 15});
  // B shares A's first four blocks, then diverges (so its ids diverge for good).
  const std::vector<BlockId> b_blocks = chain({10, 11, 12, 13, 24, 25});
  REQUIRE(b_blocks[3] == a[3]);
  REQUIRE(b_blocks[4] != a[4]);

  for (const bool caching : {true, false}) {
    CAPTURE(caching);
    FakePerf perf;
    EngineParams p;
    p.num_blocks = 64;
    p.prefix_caching = caching;
    ServingEngine engine(p, perf);
    engine.enqueue(make_request(0, 0.0, 96, 2, a));
    const double t = drain(engine, 0.0, [](const Sequence&) {});
    // All six full prompt blocks were published by A's prefill (none with caching off).
    CHECK(engine.blocks().cached_blocks() == (caching ? 6u : 0u));

    engine.enqueue(make_request(1, t, 96, 2, b_blocks));
    CHECK(engine.outstanding_tokens(t) == 98.0);
    REQUIRE(engine.plan(t, kInf));
    const Sequence* b = find_unfinished(engine, 1);
    REQUIRE(b != nullptr);
    if (caching) {
      // 4 blocks x 16 tokens hit; the 32 remaining tokens attend to 64 cached ones.
      CHECK(b->cached_tokens == 64);
      CHECK(b->computed == 64);
      CHECK(engine.last_shape().new_tokens == 32);
      CHECK(engine.last_shape().context_tokens == 96.0);
      CHECK(engine.last_shape().attention_pairs == 32.0 * 64 + 32.0 * 33 / 2);
      CHECK(engine.current_plan().end(0) == t + step(32, 96));
      CHECK(engine.blocks().counters().hit_blocks == 4);
      CHECK(engine.outstanding_tokens(t) == 34.0);  // 32 prompt + 2 output left
      CHECK(b->table[0] != b->table[5]);
    } else {
      CHECK(b->cached_tokens == 0);
      CHECK(engine.last_shape().new_tokens == 96);
      CHECK(engine.current_plan().end(0) == t + step(96, 96));
      CHECK(engine.blocks().counters().hit_blocks == 0);
      CHECK(engine.outstanding_tokens(t) == 98.0);
    }
    check_block_invariants(engine);
  }
}

TEST_CASE("serving engine: a fully cached prompt still computes its last block") {
  const std::vector<BlockId> a = chain({10, 11, 12, 13, 14, 15});
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(0, 0.0, 96, 2, a));
  double t = drain(engine, 0.0, [](const Sequence&) {});

  // Same 96 tokens: at most (96 - 1) / 16 = 5 blocks may hit, so 16 tokens are computed to
  // produce the first token's logits.
  engine.enqueue(make_request(1, t, 96, 2, a));
  REQUIRE(engine.plan(t, kInf));
  const Sequence* c = find_unfinished(engine, 1);
  REQUIRE(c != nullptr);
  CHECK(c->cached_tokens == 80);
  CHECK(engine.last_shape().new_tokens == 16);
  CHECK(engine.last_shape().context_tokens == 96.0);
  CHECK(engine.blocks().counters().hit_blocks == 5);
  t = drain(engine, t, [](const Sequence&) {});

  // 90 tokens whose 6th id covers a partial block: min((90-1)/16, 90/16) = 5 blocks hit,
  // 10 tokens computed.
  std::vector<BlockId> partial(a.begin(), a.begin() + 5);
  partial.push_back(chain({10, 11, 12, 13, 14, 99})[5]);
  engine.enqueue(make_request(2, t, 90, 2, partial));
  REQUIRE(engine.plan(t, kInf));
  const Sequence* d = find_unfinished(engine, 2);
  REQUIRE(d != nullptr);
  CHECK(d->cached_tokens == 80);
  CHECK(engine.last_shape().new_tokens == 10);
  CHECK(engine.current_plan().end(0) == t + step(10, 90));
  drain(engine, t, [](const Sequence&) {});
  // The partial block was never published: 6 blocks of A are cached, nothing of D's tail.
  CHECK(engine.blocks().cached_blocks() == 6);
}

TEST_CASE("serving engine: max_num_seqs limits admissions and the queue is served FCFS") {
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  p.max_num_seqs = 2;
  ServingEngine engine(p, perf);
  for (std::uint64_t id = 0; id < 3; ++id) engine.enqueue(make_request(id, 0.0, 16, 3));

  // Two 16-token prompts share the first step; the third waits for a sequence slot.
  REQUIRE(engine.plan(0.0, kInf));
  CHECK(engine.last_shape().num_seqs == 2);
  CHECK(engine.last_shape().new_tokens == 32);
  CHECK(engine.running() == 2);
  CHECK(engine.waiting() == 1);
  REQUIRE(find_unfinished(engine, 2) != nullptr);
  CHECK(find_unfinished(engine, 2)->table.empty());
  const double e1 = step(32, 32);
  CHECK(engine.current_plan().end(0) == e1);
  engine.apply(1, [](const Sequence&) { FAIL("nothing finishes after one token of three"); });

  // Both decode twice more; the refused head cannot join before they finish, so both
  // steps are planned together.
  REQUIRE(engine.plan(e1, kInf));
  REQUIRE(engine.current_plan().size() == 2);
  CHECK(engine.waiting() == 1);
  const double e2 = e1 + step(2, 34), e3 = e2 + step(2, 36);
  CHECK(engine.current_plan().end(1) == e3);
  std::vector<std::uint64_t> order;
  engine.apply(2, [&](const Sequence& s) {
    order.push_back(s.request.id);
    CHECK(s.finish == e3);
  });
  CHECK(order == std::vector<std::uint64_t>{0, 1});  // admission order

  REQUIRE(engine.plan(e3, kInf));
  CHECK(engine.last_shape().num_seqs == 1);
  CHECK(engine.current_plan().end(0) == e3 + step(16, 16));
  engine.apply(1, [](const Sequence&) {});
  CHECK(find_unfinished(engine, 2)->first_token == e3 + step(16, 16));
}

TEST_CASE("serving engine: a waiting head that does not fit blocks smaller requests behind it") {
  // 8 blocks of 16 tokens. r0 takes 4 blocks; r1 needs 7 of the 4 left and is refused;
  // r2 (1 block) would fit but must not overtake r1 (FCFS).
  FakePerf perf;
  EngineParams p;
  p.num_blocks = 8;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(0, 0.0, 64, 2));
  engine.enqueue(make_request(1, 0.0, 100, 2));
  engine.enqueue(make_request(2, 0.0, 16, 2));
  REQUIRE(engine.plan(0.0, kInf));
  CHECK(engine.last_shape().num_seqs == 1);
  CHECK(engine.running() == 1);
  CHECK(engine.waiting() == 2);
  CHECK(engine.blocks().free_blocks() == 4);
  engine.apply(1, [](const Sequence&) {});

  std::vector<std::uint64_t> finished;
  std::map<std::uint64_t, double> first_token;
  drain(engine, step(64, 64), [&](const Sequence& s) {
    finished.push_back(s.request.id);
    first_token[s.request.id] = s.first_token;
  });
  CHECK(finished.size() == 3);
  CHECK(first_token.at(0) == step(64, 64));
  CHECK(first_token.at(1) <= first_token.at(2));
}

TEST_CASE("serving engine: KV pressure preempts the most recently admitted request") {
  // 4 blocks of 16 tokens; two 16-token prompts with 40 output tokens each.
  // Prefill: one block each, 2 free. First decode plan: the 17th token needs a second block
  // each (0 free), and no further block is needed until token 33, so 16 steps are planned.
  // Then both need a third block with none free: r1 (admitted last) is preempted, giving back
  // its 2 blocks, and r0 goes on alone. r1 must recompute 16 + 17 = 33 tokens later.
  for (const bool multi : {true, false}) {
    CAPTURE(multi);
    FakePerf perf;
    EngineParams p;
    p.num_blocks = 4;
    p.multi_step = multi;
    ServingEngine engine(p, perf);
    engine.enqueue(make_request(0, 0.0, 16, 40));
    engine.enqueue(make_request(1, 0.0, 16, 40));
    CHECK(engine.can_ever_fit(make_request(9, 0.0, 16, 40)));  // ceil(55 / 16) = 4 blocks
    CHECK_FALSE(engine.can_ever_fit(make_request(9, 0.0, 16, 50)));  // ceil(65 / 16) = 5

    std::map<std::uint64_t, Sequence> done;
    const auto on_finish = [&](const Sequence& s) { done.emplace(s.request.id, s); };
    double now = 0.0;
    // 1 prefill step + 16 decode steps, whether planned as 1 + 1 or 1 + 16 plans.
    while (engine.steps() < 17) {
      REQUIRE(engine.plan(now, kInf));
      check_block_invariants(engine);
      now = engine.current_plan().end(engine.current_plan().size() - 1);
      engine.apply(engine.current_plan().size(), on_finish);
    }
    CHECK(engine.preemptions() == 0);
    REQUIRE(engine.plan(now, kInf));
    check_block_invariants(engine);
    CHECK(engine.preemptions() == 1);
    CHECK(engine.running() == 1);
    CHECK(engine.waiting() == 1);
    const Sequence* r1 = find_unfinished(engine, 1);
    REQUIRE(r1 != nullptr);
    CHECK(r1->preemptions == 1);
    CHECK(r1->generated == 17);
    CHECK(r1->computed == 0);
    CHECK(r1->prefill_target == 33);
    CHECK(r1->table.empty());
    CHECK(engine.last_shape().num_seqs == 1);
    CHECK(engine.current_plan().size() == 1);  // a step that preempted is never extended
    // Outstanding: r0 has 23 tokens to generate, r1 33 to recompute and 23 to generate.
    CHECK(engine.outstanding_tokens(now) == 23.0 + 33.0 + 23.0);
    now = engine.current_plan().end(0);
    engine.apply(1, on_finish);

    drain(engine, now, on_finish);
    REQUIRE(done.size() == 2);
    CHECK(done.at(0).preemptions == 0);
    CHECK(done.at(1).preemptions >= 1);
    CHECK(done.at(1).generated == 40);
    CHECK(done.at(0).finish < done.at(1).finish);
    CHECK(engine.preemptions() == done.at(1).preemptions);
    CHECK(engine.blocks().free_blocks() == 4);
  }
}

namespace {

struct Outcome {
  double first_token = -1, finish = -1;
  std::uint32_t preemptions = 0, cached_tokens = 0, generated = 0;
  bool operator==(const Outcome&) const = default;
};

struct RunResult {
  std::map<std::uint64_t, Outcome> outcomes;
  std::uint64_t steps = 0, preemptions = 0, evicted = 0, hit_blocks = 0;
  std::size_t plans = 0, multi_step_plans = 0, cut_plans = 0;
};

// A pure imitation of the simulator's serve loop (sim/engine/simulation.cpp): arrivals at or
// before the current instant are enqueued before planning; a plan is waited for until its
// last step ends, unless a request arrives first, in which case it is cut at the first step
// end at or after the arrival.
RunResult serve(const EngineParams& params, const std::vector<Request>& requests) {
  FakePerf perf;
  ServingEngine engine(params, perf);
  RunResult result;
  const auto on_finish = [&](const Sequence& s) {
    const Outcome o{s.first_token, s.finish, s.preemptions, s.cached_tokens, s.generated};
    if (!result.outcomes.emplace(s.request.id, o).second) FAIL_CHECK("request " << s.request.id << " finished twice");
  };
  std::size_t next = 0;
  const auto arrive = [&](double t) {
    while (next < requests.size() && requests[next].arrival <= t) {
      REQUIRE(engine.can_ever_fit(requests[next]));
      engine.enqueue(requests[next++]);
    }
  };
  double now = 0.0;
  for (std::size_t guard = 0;; ++guard) {
    REQUIRE(guard < 1000000);
    arrive(now);
    if (engine.idle()) {
      if (next == requests.size()) break;
      now = requests[next].arrival;
      continue;
    }
    REQUIRE(engine.plan(now, kInf));
    ++result.plans;
    if (engine.current_plan().size() > 1) ++result.multi_step_plans;
    check_block_invariants(engine);
    const auto& plan = engine.current_plan();
    std::size_t keep = plan.size();
    if (next < requests.size() && requests[next].arrival < plan.last_end()) keep = plan.cut_at(requests[next].arrival);
    if (keep < plan.size()) ++result.cut_plans;
    now = plan.end(keep - 1);
    arrive(now);
    engine.apply(keep, on_finish);
    check_block_invariants(engine);
  }
  result.steps = engine.steps();
  result.preemptions = engine.preemptions();
  result.evicted = engine.blocks().counters().evicted;
  result.hit_blocks = engine.blocks().counters().hit_blocks;
  return result;
}

// ~200 requests: Poisson arrivals (rate 1.5/s) rounded to 1/64 s so that several arrive
// at the same instant and some land exactly on step ends (also multiples of 2^-16 s); a
// third extend an earlier request's full blocks (multi-turn), the rest start with one of
// 6 shared system prompts of 0..5 blocks; a fifth carry no block ids at all.
std::vector<Request> random_requests(std::uint64_t seed, std::size_t count) {
  kvsim::Rng rng = kvsim::Rng::stream(seed, "engine-tests");
  constexpr std::uint32_t kBlock = 16;
  std::vector<std::vector<std::uint64_t>> system_prompts;
  for (std::uint64_t s = 0; s < 6; ++s) {
    std::vector<std::uint64_t> contents;
    for (std::uint64_t k = 0; k < s; ++k) contents.push_back(1000 * (s + 1) + k);
    system_prompts.push_back(contents);
  }
  std::vector<std::vector<std::uint64_t>> contents_of;  // per request, its blocks' contents
  std::vector<Request> out;
  double t = 0.0;
  std::uint64_t unique = 1u << 20;
  for (std::size_t i = 0; i < count; ++i) {
    t += rng.exponential(1.5);
    const double arrival = std::floor(t * 64.0) / 64.0;
    std::vector<std::uint64_t> contents;
    if (!out.empty() && rng.bernoulli(0.33)) {
      const std::size_t parent = rng.uniform_int(out.size());
      const std::size_t full = out[parent].input_tokens / kBlock;
      contents.assign(contents_of[parent].begin(), contents_of[parent].begin() + std::ptrdiff_t(full));
      if (contents.size() > 40) contents.resize(40);
    } else {
      contents = system_prompts[rng.uniform_int(system_prompts.size())];
    }
    const auto extra = static_cast<std::uint32_t>(1 + rng.uniform_int(300));
    const auto input = static_cast<std::uint32_t>(contents.size() * kBlock + extra);
    const auto output = static_cast<std::uint32_t>(1 + rng.uniform_int(48));
    while (contents.size() * kBlock < input) contents.push_back(unique++);
    std::vector<BlockId> blocks = rng.bernoulli(0.2) ? std::vector<BlockId>{} : chain(contents);
    contents_of.push_back(contents);
    out.push_back(make_request(i, arrival, input, output, std::move(blocks)));
  }
  return out;
}

// Returns both runs so callers can check that they exercised what they meant.
std::pair<RunResult, RunResult> check_multi_step_exact(EngineParams params, std::uint64_t seed) {
  const std::vector<Request> requests = random_requests(seed, 200);
  params.multi_step = true;
  const RunResult multi = serve(params, requests);
  params.multi_step = false;
  const RunResult single = serve(params, requests);

  // The comparison is only meaningful if the multi-step path was really taken.
  CHECK(multi.multi_step_plans > 0);
  CHECK(multi.plans < single.plans);
  CHECK(single.multi_step_plans == 0);

  REQUIRE(multi.outcomes.size() == requests.size());
  REQUIRE(single.outcomes.size() == requests.size());
  for (const Request& r : requests) {
    CAPTURE(r.id);
    const Outcome& m = multi.outcomes.at(r.id);
    const Outcome& s = single.outcomes.at(r.id);
    CHECK(m.first_token == s.first_token);
    CHECK(m.finish == s.finish);
    CHECK(m.preemptions == s.preemptions);
    CHECK(m.cached_tokens == s.cached_tokens);
    CHECK(s.generated == r.output_tokens);
    CHECK(s.first_token >= r.arrival);
    CHECK(s.finish >= s.first_token);
  }
  CHECK(multi.steps == single.steps);
  CHECK(multi.preemptions == single.preemptions);
  CHECK(multi.evicted == single.evicted);
  CHECK(multi.hit_blocks == single.hit_blocks);
  return {multi, single};
}

}  // namespace

TEST_CASE("serving engine: multi-step planning is exact, roomy pool") {
  EngineParams p;
  p.num_blocks = 4000;
  p.max_num_seqs = 16;
  p.max_num_batched_tokens = 512;
  const auto [multi, r] = check_multi_step_exact(p, 11);
  CHECK(multi.cut_plans > 0);
  CHECK(r.preemptions == 0);  // 4000 blocks hold 200 requests of at most 62 blocks
  CHECK(r.evicted == 0);
  CHECK(r.hit_blocks > 0);
}

TEST_CASE("serving engine: multi-step planning is exact, tight pool with preemptions and evictions") {
  EngineParams p;
  p.num_blocks = 120;  // 1920 tokens; a request peaks at 940 + 48 - 1 tokens, ceil(987 / 16) = 62 blocks
  p.max_num_seqs = 16;
  p.max_num_batched_tokens = 512;
  const auto [multi, r] = check_multi_step_exact(p, 12);
  CHECK(multi.cut_plans > 0);
  CHECK(r.preemptions > 0);
  CHECK(r.evicted > 0);
  CHECK(r.hit_blocks > 0);
}

TEST_CASE("serving engine: multi-step planning is exact without chunked prefill or prefix caching") {
  EngineParams p;
  p.num_blocks = 160;
  p.max_num_seqs = 8;
  // Larger than any prompt plus output (at most 40*16 + 300 + 48 - 1), so recompute after a
  // preemption always fits in one step.
  p.max_num_batched_tokens = 1024;
  p.chunked_prefill = false;
  const auto [multi_nc, r_nc] = check_multi_step_exact(p, 13);
  CHECK(multi_nc.cut_plans > 0);
  CHECK(r_nc.preemptions > 0);
  p.chunked_prefill = true;
  p.prefix_caching = false;
  const auto [multi, r] = check_multi_step_exact(p, 14);
  CHECK(multi.cut_plans > 0);
  CHECK(r.preemptions > 0);
  CHECK(r.hit_blocks == 0);
}

TEST_CASE("serving engine: multi-step planning is exact when the token budget is below max_num_seqs") {
  // 24 tokens per step for up to 32 sequences: some running requests get no token in a
  // step, prompts trickle in 24-token chunks, and the queue grows long.
  EngineParams p;
  p.num_blocks = 100;
  p.max_num_seqs = 32;
  p.max_num_batched_tokens = 24;
  CHECK(check_multi_step_exact(p, 15).second.evicted > 0);
}

TEST_CASE("serving engine: multi-step planning is exact under the sarathi batcher, tight pool") {
  EngineParams p;
  p.num_blocks = 120;
  p.max_num_seqs = 16;
  p.batcher = "sarathi";
  p.batcher_params = {{"token_budget", 128}};
  const auto [multi, r] = check_multi_step_exact(p, 16);
  CHECK(multi.cut_plans > 0);
  CHECK(r.preemptions > 0);
  CHECK(r.evicted > 0);
}

TEST_CASE("serving engine: sarathi's token budget chunks a prompt next to a decode, times by hand") {
  // r0 (32-token prompt, 3 outputs) and r1 (200-token prompt, 2 outputs) arrive at 0; budget
  // 64. Step 1: r0's prompt (32) + r1's first 32. Step 2: r0's decode + 63 of r1. Step 3: r0's
  // last decode + 63 of r1. Step 4: r1's last 42 tokens (its first token). Step 5: r1's decode.
  EngineParams p;
  p.num_blocks = 64;
  p.batcher = "sarathi";
  p.batcher_params = {{"token_budget", 64}};
  FakePerf perf;
  ServingEngine engine(p, perf);
  engine.enqueue(make_request(0, 0.0, 32, 3));
  engine.enqueue(make_request(1, 0.0, 200, 2));
  std::map<std::uint64_t, std::pair<double, double>> times;  // first token, finish
  const double end = drain(engine, 0.0, [&](const Sequence& s) { times[s.request.id] = {s.first_token, s.finish}; });
  const double e1 = step(64, 32 + 32);            // contexts: 32 (r0) + 32 (r1's chunk)
  const double e2 = e1 + step(64, 33 + 95);       // r0 at 33; r1's chunk ends at 95
  const double e3 = e2 + step(64, 34 + 158);
  const double e4 = e3 + step(42, 200);           // r0 finished at e3
  const double e5 = e4 + step(1, 201);
  CHECK(times.at(0) == std::pair{e1, e3});
  CHECK(times.at(1) == std::pair{e4, e5});
  CHECK(end == e5);
}

TEST_CASE("serving engine: priority batcher, an online and an offline request compete for one slot, times by hand") {
  // max_num_seqs = 1, no block ids (no prefix cache), FakePerf.
  EngineParams p;
  p.num_blocks = 64;
  p.max_num_seqs = 1;
  p.batcher = "priority";
  auto offline = [](std::uint64_t id, double arrival, std::uint32_t in, std::uint32_t out) {
    Request r = make_request(id, arrival, in, out);
    r.priority = 1;
    return r;
  };
  SUBCASE("arriving together, the online request is admitted first") {
    // Offline r0 (96 tokens, 4 outputs) is first in FCFS order, online r1 (96, 2) second.
    const RunResult r = serve(p, {offline(0, 0.0, 96, 4), make_request(1, 0.0, 96, 2)});
    const double e1 = step(96, 96), f1 = e1 + step(1, 97);
    double f0 = f1 + step(96, 96);
    for (int c = 97; c <= 99; ++c) f0 += step(1, c);
    CHECK(r.outcomes.at(1).first_token == e1);
    CHECK(r.outcomes.at(1).finish == f1);
    CHECK(r.outcomes.at(0).first_token == f1 + step(96, 96));
    CHECK(r.outcomes.at(0).finish == f0);
    CHECK(r.preemptions == 0);
  }
  SUBCASE("an online arrival preempts the running offline request at the next step end") {
    // r0 alone: prefill ends at e1, its first decode at d1; online r1 arrives in between, the
    // plan is cut at d1 (2 tokens generated), r0 is preempted, r1 runs (prefill + 1 decode),
    // then r0 recomputes its 96 + 2 tokens (sampling its 3rd token) and decodes its 4th.
    const double e1 = step(96, 96), d1 = e1 + step(1, 97);
    const RunResult r = serve(p, {offline(0, 0.0, 96, 4), make_request(1, (e1 + d1) / 2, 96, 2)});
    const double t1 = d1 + step(96, 96), f1 = t1 + step(1, 97);
    const double f0 = f1 + step(98, 98) + step(1, 99);
    CHECK(r.outcomes.at(0).first_token == e1);
    CHECK(r.outcomes.at(1).first_token == t1);
    CHECK(r.outcomes.at(1).finish == f1);
    CHECK(r.outcomes.at(0).finish == f0);
    CHECK(r.outcomes.at(0).preemptions == 1);
    CHECK(r.outcomes.at(1).preemptions == 0);
  }
}

TEST_CASE("serving engine: an arrival cuts a multi-step plan at the step end at or after it") {
  // r0: 96-token prompt, 10 output tokens, alone: prefill ends at e1, then 9 decode steps are
  // planned at once. r1 (96 tokens, 2 outputs) arrives either exactly at the end of the
  // second decode step or half a second before it; both cut the plan there, so both give
  // the same times, by hand:
  //   cut  = e1 + step(1, 97) + step(1, 98)
  //   r1's prefill joins r0's decode: 96 + 1 new tokens, 96 + 99 of context
  //   e    = cut + step(97, 195)                     r1's first token
  //   f1   = e + step(2, 100 + 97)                   r1's second (last) token, r0 at context 100
  //   r0 alone for its 5 remaining tokens, context 101..105.
  const double e1 = step(96, 96);
  const double cut = e1 + step(1, 97) + step(1, 98);
  const double e = cut + step(97, 195);
  const double f1 = e + step(2, 197);
  double f0 = f1;
  for (int c = 101; c <= 105; ++c) f0 += step(1, c);

  for (const double arrival : {cut, cut - 0.5}) {
    CAPTURE(arrival);
    const std::vector<Request> requests{make_request(0, 0.0, 96, 10), make_request(1, arrival, 96, 2)};
    EngineParams p;
    p.num_blocks = 64;
    for (const bool multi : {true, false}) {
      CAPTURE(multi);
      p.multi_step = multi;
      const RunResult r = serve(p, requests);
      REQUIRE(r.outcomes.size() == 2);
      CHECK(r.outcomes.at(0).first_token == e1);
      CHECK(r.outcomes.at(1).first_token == e);
      CHECK(r.outcomes.at(1).finish == f1);
      CHECK(r.outcomes.at(0).finish == f0);
      CHECK(r.steps == 1 + 2 + 1 + 1 + 5);
      // Plans: multi-step = prefill, 9 decodes cut after 2, joint step, joint decode, 5 decodes.
      CHECK(r.plans == (multi ? 5u : 10u));
      CHECK(r.cut_plans == (multi ? 1u : 0u));
    }
  }
}
