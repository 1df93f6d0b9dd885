// Known answers for the step schedule of one instance under the default batcher (vllm_v1),
// driven through ServingEngine, for cases the other engine tests leave out. Each
// expectation is derived by hand from vLLM V1's scheduler rules (running requests first,
// a token budget of max_num_batched_tokens, chunked prefill of the waiting head, the
// final chunk sampling the first token, preemption of the last running request with
// recompute of prompt + generated tokens, blocks of block_size tokens allocated as the
// KV grows) and the fake step model: step = 1 s + new / 1024 s + context / 65536 s. All
// terms are dyadic, so times are compared with ==.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "models/scheduling/serving_engine.hpp"
#include "tests/unit/engine_requests.hpp"
#include "tests/unit/fake_step_model.hpp"

using kvsim::scheduling::EngineParams;
using kvsim::scheduling::Sequence;
using kvsim::scheduling::ServingEngine;
using kvsim::test::chained_blocks;
using kvsim::test::engine_request;
using kvsim::test::fake_step;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

const Sequence* unfinished(const ServingEngine& engine, std::uint64_t id) {
  const Sequence* found = nullptr;
  engine.for_each_unfinished([&](const Sequence& s) {
    if (s.request.id == id) found = &s;
  });
  return found;
}

// Plans and applies whole plans until the engine is idle; returns the last step end.
double drain(ServingEngine& engine, double now, const ServingEngine::FinishCallback& on_finish) {
  for (int guard = 0; !engine.idle(); ++guard) {
    REQUIRE(guard < 10000);
    REQUIRE(engine.plan(now, kInf));
    now = engine.current_plan().end(engine.current_plan().size() - 1);
    engine.apply(engine.current_plan().size(), on_finish);
  }
  return now;
}

}  // namespace

TEST_CASE("batch schedule: decodes that use the whole token budget leave a waiting request out") {
  // Budget 2 tokens. Step 1 admits r0 and r1 (1 prompt token each) and spends the budget;
  // r2 waits. Steps 2 and 3 are two decodes each, exactly the budget: vLLM's waiting loop
  // runs only while budget > 0, so r2 stays out although a sequence slot and blocks are
  // free, and the two decode steps form one plan. r2 starts when both have finished.
  kvsim::test::FakePerf perf;
  EngineParams p;
  p.num_blocks = 16;
  p.max_num_batched_tokens = 2;
  ServingEngine engine(p, perf);
  engine.enqueue(engine_request(0, 1, 3));
  engine.enqueue(engine_request(1, 1, 3));
  engine.enqueue(engine_request(2, 1, 2));

  REQUIRE(engine.plan(0.0, kInf));
  CHECK(engine.last_shape().num_seqs == 2);
  CHECK(engine.waiting() == 1);
  const double e1 = fake_step(2, 2);
  CHECK(engine.current_plan().end(0) == e1);
  engine.apply(1, [](const Sequence&) { FAIL("nothing finishes after the prefill"); });

  REQUIRE(engine.plan(e1, kInf));
  CHECK(engine.last_shape().new_tokens == 2);
  CHECK(engine.last_shape().num_logits == 2);
  CHECK(engine.waiting() == 1);
  REQUIRE(engine.current_plan().size() == 2);  // contexts 2 + 2, then 3 + 3
  const double e3 = e1 + fake_step(2, 4) + fake_step(2, 6);
  CHECK(engine.current_plan().end(1) == e3);
  int finished = 0;
  engine.apply(2, [&](const Sequence& s) {
    ++finished;
    CHECK(s.finish == e3);
  });
  CHECK(finished == 2);

  REQUIRE(engine.plan(e3, kInf));
  CHECK(engine.last_shape().new_tokens == 1);
  CHECK(engine.current_plan().end(0) == e3 + fake_step(1, 1));
  engine.apply(1, [](const Sequence&) {});
  CHECK(unfinished(engine, 2)->first_token == e3 + fake_step(1, 1));
}

TEST_CASE("batch schedule: a prompt longer than the budget is chunked beside a decode, its last chunk samples") {
  // Budget 256. Step 1: r0's 16-token prompt, then r1's first chunk of 240 (the rest of the
  // budget). Step 2: r0 decodes first (1 token, context 17), r1 takes 255 (context 495).
  // Step 3: r0 decodes (context 18), r1's last 105 tokens (context 600) sample its first
  // token. Then both decode once more (contexts 19 and 601) and r1 finishes.
  kvsim::test::FakePerf perf;
  EngineParams p;
  p.num_blocks = 128;
  p.max_num_batched_tokens = 256;
  ServingEngine engine(p, perf);
  engine.enqueue(engine_request(0, 16, 10));
  engine.enqueue(engine_request(1, 600, 2));

  struct Expected {
    std::uint64_t new_tokens;
    double context;
    std::uint32_t logits;
    std::uint32_t r1_computed;
  };
  const std::vector<Expected> steps{{256, 256, 1, 240}, {256, 17 + 495, 1, 495}, {106, 18 + 600, 2, 600}};
  double now = 0.0;
  for (const Expected& e : steps) {
    REQUIRE(engine.plan(now, kInf));
    REQUIRE(engine.current_plan().size() == 1);
    CHECK(engine.last_shape().new_tokens == e.new_tokens);
    CHECK(engine.last_shape().context_tokens == e.context);
    CHECK(engine.last_shape().num_logits == e.logits);
    now += fake_step(double(e.new_tokens), e.context);
    CHECK(engine.current_plan().end(0) == now);
    engine.apply(1, [](const Sequence&) { FAIL("nothing finishes during r1's prefill"); });
    REQUIRE(unfinished(engine, 1) != nullptr);
    CHECK(unfinished(engine, 1)->computed == e.r1_computed);
  }
  const Sequence* r1 = unfinished(engine, 1);
  CHECK(r1->first_token == now);
  CHECK(r1->generated == 1);
  CHECK(r1->table.size() == 38);  // ceil(600 / 16)
  CHECK(unfinished(engine, 0)->first_token == fake_step(256, 256));

  REQUIRE(engine.plan(now, kInf));
  CHECK(engine.last_shape().context_tokens == 19.0 + 601.0);
  const double end = now + fake_step(2, 620);
  CHECK(engine.current_plan().end(0) == end);
  bool r1_done = false;
  engine.apply(engine.current_plan().size(), [&](const Sequence& s) {
    CHECK(s.request.id == 1);
    CHECK(s.finish == end);
    r1_done = true;
  });
  CHECK(r1_done);
}

TEST_CASE("batch schedule: a sequence of exactly 16k tokens takes a new block for its next token, 16k - 1 does not") {
  // Pool of 3 blocks. A 32-token prompt fills 2 blocks; its first decode computes the KV
  // of token 33, which needs a third block. A 31-token prompt's first decode computes
  // token 32, still in its second block. The peak is prompt + output - 1 tokens (the last
  // sampled token's KV is never computed): 48 tokens fit 3 blocks, 49 do not.
  kvsim::test::FakePerf perf;
  EngineParams p;
  p.num_blocks = 3;
  CHECK(ServingEngine(p, perf).can_ever_fit(engine_request(9, 32, 17)));
  CHECK_FALSE(ServingEngine(p, perf).can_ever_fit(engine_request(9, 32, 18)));
  for (const std::uint32_t input : {32u, 31u}) {
    CAPTURE(input);
    ServingEngine engine(p, perf);
    engine.enqueue(engine_request(0, input, 2));
    REQUIRE(engine.plan(0.0, kInf));
    CHECK(engine.blocks().free_blocks() == 1);
    const double e1 = fake_step(input, input);
    engine.apply(1, [](const Sequence&) {});
    REQUIRE(engine.plan(e1, kInf));
    CHECK(engine.blocks().free_blocks() == (input == 32 ? 0u : 1u));
    CHECK(unfinished(engine, 0)->table.size() == (input == 32 ? 3u : 2u));
    CHECK(engine.current_plan().end(0) == e1 + fake_step(1, input + 1));
  }
}

TEST_CASE("batch schedule: a preempted request recomputes prompt + generated tokens, reusing its cached prompt") {
  // 8 blocks of 16 tokens; r0 and r1 have 32-token prompts (2 blocks each, distinct
  // identities) and 40 output tokens. Step 1 prefills both (4 blocks, 4 free) and publishes
  // their prompt blocks. The decodes then take a third block each at token 33 (2 free),
  // enough for 32 steps (a fourth each at token 49): one plan of 32 steps, after which
  // both hold 64 computed tokens, 33 generated, 4 blocks, and none is free. Next, r0 needs
  // a fifth block for token 65: r1, the last admitted, is preempted (its 2 prompt blocks
  // stay cached, its 2 others are emptied; r0 takes one of those), and nothing is admitted
  // in that step. r1 must recompute its prompt and the 33 tokens it generated, 65 in all;
  // readmitted, it finds its 2 prompt blocks in the prefix cache and computes 33 tokens
  // (5 blocks: 3 new and the 2 cached ones), which does not fit the 3 free blocks while r0
  // runs, so it waits for r0's last 6 tokens. Its recompute step samples its 34th token;
  // its first token keeps its original time. (kvsim caches prompt blocks only; vLLM V1
  // also caches full blocks of generated tokens, and would find r1's third block too.)
  kvsim::test::FakePerf perf;
  EngineParams p;
  p.num_blocks = 8;
  ServingEngine engine(p, perf);
  engine.enqueue(engine_request(0, 32, 40, chained_blocks(100, 2)));
  engine.enqueue(engine_request(1, 32, 40, chained_blocks(200, 2)));

  REQUIRE(engine.plan(0.0, kInf));
  const double e1 = fake_step(64, 64);
  engine.apply(1, [](const Sequence&) {});
  CHECK(engine.blocks().cached_blocks() == 4);

  REQUIRE(engine.plan(e1, kInf));
  REQUIRE(engine.current_plan().size() == 32);
  double t = e1;
  for (std::uint32_t j = 0; j < 32; ++j) t += fake_step(2, 2.0 * (33 + j));
  CHECK(engine.current_plan().end(31) == t);
  engine.apply(32, [](const Sequence&) { FAIL("nothing finishes"); });
  CHECK(engine.blocks().free_blocks() == 0);

  REQUIRE(engine.plan(t, kInf));
  CHECK(engine.preemptions() == 1);
  CHECK(engine.last_shape().num_seqs == 1);
  CHECK(engine.last_shape().context_tokens == 65.0);
  CHECK(engine.running() == 1);
  const Sequence* r1 = unfinished(engine, 1);
  REQUIRE(r1 != nullptr);
  CHECK(r1->is_running == false);
  CHECK(r1->computed == 0);
  CHECK(r1->generated == 33);
  CHECK(r1->prefill_target == 32 + 33);
  CHECK(r1->table.empty());
  CHECK(engine.blocks().free_blocks() == 3);
  t += fake_step(1, 65);
  CHECK(engine.current_plan().end(0) == t);
  engine.apply(1, [](const Sequence&) {});

  // r0 decodes its last 6 tokens (contexts 66..71) in one plan while r1 waits.
  REQUIRE(engine.plan(t, kInf));
  CHECK(engine.waiting() == 1);
  REQUIRE(engine.current_plan().size() == 6);
  for (std::uint32_t j = 0; j < 6; ++j) t += fake_step(1, 66 + j);
  CHECK(engine.current_plan().end(5) == t);
  engine.apply(6, [&](const Sequence& s) {
    CHECK(s.request.id == 0);
    CHECK(s.finish == t);
  });

  REQUIRE(engine.plan(t, kInf));
  r1 = unfinished(engine, 1);
  REQUIRE(r1 != nullptr);
  CHECK(r1->cached_tokens == 32);
  CHECK(r1->computed == 32);
  CHECK(engine.last_shape().new_tokens == 33);
  CHECK(engine.last_shape().context_tokens == 65.0);
  CHECK(engine.last_shape().num_logits == 1);
  t += fake_step(33, 65);
  CHECK(engine.current_plan().end(0) == t);
  engine.apply(1, [](const Sequence&) {});
  CHECK(r1->generated == 34);
  CHECK(r1->first_token == e1);
  CHECK(r1->table.size() == 5);

  std::map<std::uint64_t, Sequence> done;
  drain(engine, t, [&](const Sequence& s) { done.emplace(s.request.id, s); });
  REQUIRE(done.size() == 1);
  CHECK(done.at(1).generated == 40);
  CHECK(done.at(1).preemptions == 1);
  // 6 more decodes of contexts 66..71.
  for (std::uint32_t j = 0; j < 6; ++j) t += fake_step(1, 66 + j);
  CHECK(done.at(1).finish == t);
  CHECK(engine.blocks().free_blocks() == 8);
}

TEST_CASE("batch schedule: prefix-cache hits take none of the token budget, a fully cached prompt computes its last block") {
  // A (96 tokens, 6 blocks) runs first and publishes its blocks. Then B (the same 96
  // tokens) and C (8 tokens, no identities) wait, budget 20. B may hit at most
  // (96 - 1) / 16 = 5 blocks (80 tokens, outside the budget) and computes its last 16
  // tokens, which sample its first token; C gets the 4 tokens left. Next step: B's decode
  // (context 97) and C's last 4 tokens (context 8), both sampling.
  kvsim::test::FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  p.max_num_batched_tokens = 20;
  ServingEngine engine(p, perf);
  const auto ids = chained_blocks(300, 6);
  engine.enqueue(engine_request(0, 96, 1, ids));
  double t = drain(engine, 0.0, [](const Sequence&) {});
  engine.enqueue(engine_request(1, 96, 2, ids));
  engine.enqueue(engine_request(2, 8, 2));

  REQUIRE(engine.plan(t, kInf));
  CHECK(unfinished(engine, 1)->cached_tokens == 80);
  CHECK(engine.last_shape().num_seqs == 2);
  CHECK(engine.last_shape().new_tokens == 20);
  CHECK(engine.last_shape().context_tokens == 96.0 + 4.0);
  CHECK(engine.last_shape().num_logits == 1);
  t += fake_step(20, 100);
  CHECK(engine.current_plan().end(0) == t);
  engine.apply(1, [](const Sequence&) {});
  CHECK(unfinished(engine, 1)->first_token == t);

  REQUIRE(engine.plan(t, kInf));
  CHECK(engine.last_shape().new_tokens == 5);
  CHECK(engine.last_shape().context_tokens == 97.0 + 8.0);
  CHECK(engine.last_shape().num_logits == 2);
  CHECK(engine.current_plan().end(0) == t + fake_step(5, 105));
}

TEST_CASE("batch schedule: sarathi without chunked prefill runs a prompt longer than its token budget whole") {
  // token_budget 64 is a chunk size, and there are no chunks: r0's 100-token prompt and
  // r1's 10 go in whole in step 1 (110 tokens within max_num_batched_tokens = 256), then
  // both decode once (contexts 101 and 11) and finish. Before, r0 was refused for ever and
  // plan() found nothing to run.
  kvsim::test::FakePerf perf;
  EngineParams p;
  p.num_blocks = 64;
  p.max_num_batched_tokens = 256;
  p.chunked_prefill = false;
  p.batcher = "sarathi";
  p.batcher_params = {{"token_budget", 64}};
  ServingEngine engine(p, perf);
  engine.enqueue(engine_request(0, 100, 2));
  engine.enqueue(engine_request(1, 10, 2));
  REQUIRE(engine.plan(0.0, kInf));
  CHECK(engine.last_shape().new_tokens == 110);
  const double e1 = fake_step(110, 110);
  CHECK(engine.current_plan().end(0) == e1);
  engine.apply(1, [](const Sequence&) {});
  REQUIRE(engine.plan(e1, kInf));
  CHECK(engine.last_shape().context_tokens == 101.0 + 11.0);
  const double e2 = e1 + fake_step(2, 112);
  CHECK(engine.current_plan().end(0) == e2);
  int finished = 0;
  engine.apply(1, [&](const Sequence& s) {
    ++finished;
    CHECK(s.finish == e2);
  });
  CHECK(finished == 2);
  CHECK(engine.idle());
}
