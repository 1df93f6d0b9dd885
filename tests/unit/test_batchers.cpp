// Known-answer tests of the batcher family (models/scheduling/batching/) against a fake
// instance (a StepContext with a plain block count), where each step's composition is
// derived by hand from the variant's documented rule, and of StepPlan's cutting rule.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <vector>

#include "models/scheduling/batching/batcher.hpp"
#include "models/scheduling/step_plan.hpp"
#include "sim/util/error.hpp"

using kvsim::scheduling::Sequence;
using kvsim::scheduling::StepPlan;
using namespace kvsim::scheduling::batching;

namespace {

constexpr std::uint32_t kBlock = 16;

// A fake instance: sequences with a number of held blocks, a pool of free blocks, and a log
// of what the batcher did. Admission takes the whole prompt's blocks (no prefix cache).
class FakeInstance final : public StepContext {
 public:
  std::vector<std::unique_ptr<Sequence>> running;
  std::deque<std::unique_ptr<Sequence>> waiting;
  std::uint32_t free = 1000;
  std::uint32_t seq_limit = 256;
  std::uint32_t budget = 8192;
  bool chunked = true;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> steps;  // (request id, tokens) in order
  std::vector<std::uint64_t> preempted;

  // A running sequence: prompt of `input` tokens of which `computed` are done, `generated`
  // output tokens so far (a decode when computed == input + generated... see make()).
  Sequence& add_running(std::uint64_t id, std::uint32_t input, std::uint32_t computed, std::uint32_t generated = 0) {
    auto s = make(id, input);
    s->computed = computed;
    s->generated = generated;
    s->prefill_target = input + (generated > 0 ? generated - 1 : 0);
    if (generated > 0) s->prefill_target = computed;  // decoding: all computed so far
    s->table.assign((computed + kBlock - 1) / kBlock, 0);
    s->is_running = true;
    running.push_back(std::move(s));
    return *running.back();
  }
  Sequence& add_waiting(std::uint64_t id, std::uint32_t input) {
    waiting.push_back(make(id, input));
    return *waiting.back();
  }

  const std::vector<std::unique_ptr<Sequence>>& running_sequences() const override { return running; }
  const std::deque<std::unique_ptr<Sequence>>& waiting_sequences() const override { return waiting; }
  std::uint32_t max_num_seqs() const override { return seq_limit; }
  double prefill_time(std::uint64_t tokens) const override { return double(tokens) / 1000.0; }
  std::uint32_t max_num_batched_tokens() const override { return budget; }
  bool chunked_prefill() const override { return chunked; }
  std::uint32_t blocks_needed(const Sequence& seq, std::uint32_t tokens) const override {
    return (seq.computed + tokens + kBlock - 1) / kBlock - std::uint32_t(seq.table.size());
  }
  std::uint32_t free_blocks() const override { return free; }
  void schedule(Sequence& seq, std::uint32_t tokens) override {
    REQUIRE(!seq.in_step);
    REQUIRE(!seq.loading);
    REQUIRE(tokens >= 1);
    REQUIRE(tokens <= seq.tokens_wanted());
    const std::uint32_t need = blocks_needed(seq, tokens);
    REQUIRE(need <= free);
    free -= need;
    seq.table.resize(seq.table.size() + need);
    seq.in_step = true;
    steps.emplace_back(seq.request.id, tokens);
  }
  void preempt(Sequence& seq) override {
    REQUIRE(!seq.in_step);
    free += std::uint32_t(seq.table.size());
    seq.table.clear();
    seq.computed = 0;
    preempted.push_back(seq.request.id);
    seq.is_running = false;
    auto it = std::find_if(running.begin(), running.end(), [&](const auto& p) { return p.get() == &seq; });
    REQUIRE(it != running.end());
    waiting.push_front(std::move(*it));
    running.erase(it);
  }
  Admission admit(Sequence& seq, std::uint32_t limit) override {
    const std::uint32_t tokens = std::min(seq.tokens_wanted(), limit);
    if (tokens < seq.tokens_wanted() && !chunked) return {Admission::Kind::refused, 0, true};
    const std::uint32_t need = (tokens + kBlock - 1) / kBlock;
    if (need > free) return {};
    auto it = std::find_if(waiting.begin(), waiting.end(), [&](const auto& p) { return p.get() == &seq; });
    REQUIRE(it != waiting.end());
    seq.is_running = true;
    running.push_back(std::move(*it));
    waiting.erase(it);
    schedule(seq, tokens);
    return {Admission::Kind::scheduled, tokens};
  }

 private:
  static std::unique_ptr<Sequence> make(std::uint64_t id, std::uint32_t input) {
    auto s = std::make_unique<Sequence>();
    s->request.id = id;
    s->request.input_tokens = input;
    s->request.output_tokens = 100;
    s->prefill_target = input;
    return s;
  }
};

using Steps = std::vector<std::pair<std::uint64_t, std::uint32_t>>;

}  // namespace

TEST_CASE("batchers: vllm_v1 serves running sequences in admission order, so a long prefill ahead stalls a decode") {
  // Sequence 1 (admitted first) still has 300 prompt tokens to compute (its prefix was
  // loaded, say); sequence 2 is decoding. With a 64-token budget vLLM V1 gives all 64 to
  // sequence 1 and none to sequence 2; Sarathi gives sequence 2 its decode token first and
  // sequence 1 the remaining 63.
  for (const bool sarathi : {false, true}) {
    CAPTURE(sarathi);
    FakeInstance fake;
    fake.budget = 64;
    fake.add_running(1, 400, 100);
    fake.add_running(2, 40, 41, 2);
    fake.add_waiting(3, 10);
    auto batcher = sarathi ? make_batcher("sarathi", {{"token_budget", 0}}) : make_batcher("vllm_v1");
    CHECK_FALSE(batcher->fill(fake));
    CHECK(fake.steps == (sarathi ? Steps{{2, 1}, {1, 63}} : Steps{{1, 64}}));
    CHECK(fake.waiting.size() == 1);  // the budget is spent: nothing admitted
  }
}

TEST_CASE("batchers: sarathi's token budget bounds the step, admissions fill what is left, FCFS") {
  // Budget 100: decodes of 2 and 4 (1 each), prefill chunk of 1 (50 left: 50), then the
  // waiting head (30 tokens: 30), then the next (40 tokens: 18 of them).
  FakeInstance fake;
  fake.add_running(1, 150, 100);
  fake.add_running(2, 20, 21, 2);
  fake.add_running(4, 20, 25, 6);
  fake.add_waiting(5, 30);
  fake.add_waiting(6, 40);
  fake.add_waiting(7, 10);
  auto batcher = make_batcher("sarathi", {{"token_budget", 100}});
  CHECK_FALSE(batcher->fill(fake));
  CHECK(fake.steps == Steps{{2, 1}, {4, 1}, {1, 50}, {5, 30}, {6, 18}});
  REQUIRE(fake.waiting.size() == 1);
  CHECK(fake.waiting.front()->request.id == 7);
}

TEST_CASE("batchers: vllm_v1 preempts the most recently admitted sequence and admits nothing in that step") {
  // Three decoding sequences each at a block boundary (32 computed tokens: the next token
  // needs a new block) and one free block: 1 takes it; 2 needs one, so 3 (latest) is
  // preempted, freeing its 2 blocks; 2 takes one. The waiting request is not admitted.
  FakeInstance fake;
  fake.free = 1;
  fake.add_running(1, 20, 32, 13);
  fake.add_running(2, 20, 32, 13);
  fake.add_running(3, 20, 32, 13);
  fake.add_waiting(9, 10);
  auto batcher = make_batcher("vllm_v1");
  CHECK(batcher->fill(fake));
  CHECK(fake.steps == Steps{{1, 1}, {2, 1}});
  CHECK(fake.preempted == std::vector<std::uint64_t>{3});
  CHECK(fake.free == 1);
  REQUIRE(fake.waiting.size() == 2);
  CHECK(fake.waiting.front()->request.id == 3);  // back at the front of the queue
}

TEST_CASE("batchers: a sequence with nothing left to preempt but itself is preempted, the step goes on without it") {
  // One free block: 1 (decoding at a boundary) takes it; 2 needs one; the latest
  // preemptible sequence is 2 itself (3 is loading), so 2 is preempted; 3 never runs.
  FakeInstance fake;
  fake.free = 1;
  fake.add_running(1, 20, 32, 13);
  fake.add_running(2, 20, 32, 13);
  fake.add_running(3, 20, 32, 13).loading = true;
  auto batcher = make_batcher("vllm_v1");
  CHECK(batcher->fill(fake));
  CHECK(fake.steps == Steps{{1, 1}});
  CHECK(fake.preempted == std::vector<std::uint64_t>{2});
}

TEST_CASE("batchers: under sarathi a prefill chunk never preempts a decode already in the step") {
  // Decodes 1 and 2 (both at block boundaries) take the two free blocks in pass 1; the
  // prefill of 3 (admitted before 2 but prefilling) needs a block in pass 2: the latest
  // preemptible sequence is 3 itself (1 and 2 are in the step), so it is preempted.
  FakeInstance fake;
  fake.free = 2;
  fake.add_running(1, 20, 32, 13);
  fake.add_running(3, 200, 64);
  fake.add_running(2, 20, 32, 13);
  auto batcher = make_batcher("sarathi");
  CHECK(batcher->fill(fake));
  CHECK(fake.steps == Steps{{1, 1}, {2, 1}});
  CHECK(fake.preempted == std::vector<std::uint64_t>{3});
}

TEST_CASE("batchers: without chunked prefill a prompt over the remaining budget waits, and blocks the queue") {
  FakeInstance fake;
  fake.chunked = false;
  fake.budget = 100;
  fake.add_running(1, 20, 21, 2);
  fake.add_waiting(5, 120);
  fake.add_waiting(6, 10);
  auto batcher = make_batcher("vllm_v1");
  CHECK_FALSE(batcher->fill(fake));
  CHECK(fake.steps == Steps{{1, 1}});
  CHECK(fake.waiting.size() == 2);
}

TEST_CASE("batchers: priority admits online work first, preempting offline work to make room") {
  // No free block: offline 1 runs (decoding at a block boundary, 2 blocks held); online 2
  // waits (20 tokens: 2 blocks), so is offline 3. Class 0 first: 2 is refused, offline 1 is
  // preempted (its 2 blocks freed), 2 is admitted. Class 1: 1 is running no more; 3 and 1
  // wait and find no room (only 2 is running, and it is in the step).
  FakeInstance fake;
  fake.free = 0;
  fake.add_running(1, 20, 32, 13).request.priority = 1;
  fake.add_waiting(3, 10).request.priority = 1;
  fake.add_waiting(2, 20);
  auto batcher = make_batcher("priority");
  CHECK(batcher->fill(fake));
  CHECK(fake.steps == Steps{{2, 20}});
  CHECK(fake.preempted == std::vector<std::uint64_t>{1});
  CHECK(fake.running.size() == 1);
  // The same under vllm_v1: the running offline sequence keeps its place and cannot grow
  // (no block), so it preempts itself; nobody is admitted after a preemption.
  FakeInstance fifo;
  fifo.free = 0;
  fifo.add_running(1, 20, 32, 13).request.priority = 1;
  fifo.add_waiting(3, 10).request.priority = 1;
  fifo.add_waiting(2, 20);
  CHECK(make_batcher("vllm_v1")->fill(fifo));
  CHECK(fifo.steps.empty());
}

TEST_CASE("batchers: priority's offline throttle keeps predicted online TTFT within headroom x SLO") {
  // The fake predicts tokens / 1000 s. SLO 1 s, headroom 0.8: at most 800 prompt tokens of
  // online backlog plus offline work in the step. Online 1 (300 tokens) is admitted; then
  // offline 2 (600): 300 + 600 = 900 > 800, throttled, and admissions stop; with 400
  // instead: 700 fits, and offline 3 (50) brings it to 750, which fits too.
  for (const std::uint32_t offline_prompt : {600u, 400u}) {
    CAPTURE(offline_prompt);
    FakeInstance fake;
    fake.add_waiting(1, 300);
    fake.add_waiting(2, offline_prompt).request.priority = 1;
    fake.add_waiting(3, 50).request.priority = 1;
    auto batcher = make_batcher("priority", {{"online_ttft_slo", 1.0}, {"headroom", 0.8}});
    CHECK_FALSE(batcher->fill(fake));
    CHECK(fake.steps == (offline_prompt == 600 ? Steps{{1, 300}} : Steps{{1, 300}, {2, 400}, {3, 50}}));
    // Without the throttle everything is admitted.
    FakeInstance open;
    open.add_waiting(1, 300);
    open.add_waiting(2, offline_prompt).request.priority = 1;
    open.add_waiting(3, 50).request.priority = 1;
    CHECK_FALSE(make_batcher("priority")->fill(open));
    CHECK(open.steps == Steps{{1, 300}, {2, offline_prompt}, {3, 50}});
  }
}

TEST_CASE("batchers: registry names, parameters and errors") {
  CHECK(batchers().names() == std::vector<std::string>{"vllm_v1", "sarathi", "priority"});
  CHECK_THROWS_WITH_AS(make_batcher("sarathy"), doctest::Contains("did you mean \"sarathi\""), kvsim::InputError);
  CHECK_THROWS_WITH_AS(make_batcher("sarathi", {{"token_budet", 5}}), doctest::Contains("did you mean \"token_budget\""),
                       kvsim::InputError);
}

TEST_CASE("step plan: cut_at stops at the step end at or after the wake-up") {
  StepPlan plan;
  plan.start(10.0);
  for (const double end : {11.0, 12.5, 14.0}) plan.push_end(end);
  CHECK(plan.done_by(10.5) == 0);
  CHECK(plan.cut_at(10.0) == 1);   // at the start: the first step still runs
  CHECK(plan.cut_at(10.5) == 1);   // inside step 1
  CHECK(plan.cut_at(11.0) == 1);   // exactly at its end
  CHECK(plan.cut_at(11.01) == 2);  // inside step 2
  CHECK(plan.cut_at(12.5) == 2);
  CHECK(plan.cut_at(13.0) == 3);
  CHECK(plan.cut_at(14.0) == 3);
  CHECK(plan.cut_at(99.0) == 3);  // never more than planned
  CHECK(plan.done_by(14.0) == 3);
}

TEST_CASE("step plan: done_by counts the ended steps whatever the order of the queries") {
  StepPlan plan;
  plan.start(0.0);
  for (int j = 1; j <= 20; ++j) plan.push_end(double(j));  // step j ends at j
  // In time order, a step at a time, jumping many steps, and back.
  CHECK(plan.done_by(0.5) == 0);
  CHECK(plan.done_by(1.0) == 1);
  CHECK(plan.done_by(1.5) == 1);
  CHECK(plan.done_by(2.0) == 2);
  CHECK(plan.done_by(17.25) == 17);
  CHECK(plan.done_by(3.0) == 3);
  CHECK(plan.done_by(0.0) == 0);
  CHECK(plan.done_by(25.0) == 20);
  CHECK(plan.done_by(19.99) == 19);
  CHECK(plan.cut_at(6.5) == 7);
  // A new plan forgets where the old one's queries were.
  plan.start(20.0);
  plan.push_end(21.0);
  CHECK(plan.done_by(20.5) == 0);
  CHECK(plan.done_by(21.0) == 1);
}

TEST_CASE("batchers: sarathi without chunked prefill admits a prompt longer than its chunk size whole") {
  // Sarathi's token_budget is its chunk size. With chunked prefill off there are no chunks:
  // a 600-token prompt behind a decode must go in whole within the instance's step limit
  // (max_num_batched_tokens, 8192 here, which the engine's admission check guarantees every
  // request fits), not wait forever for a 512-token budget it can never fit (the run died
  // with "instance 0 has queued work but cannot plan a step"), blocking the queue.
  FakeInstance fake;
  fake.chunked = false;
  fake.add_running(1, 20, 21, 2);
  fake.add_waiting(5, 600);
  fake.add_waiting(6, 10);
  CHECK_FALSE(make_batcher("sarathi")->fill(fake));  // token_budget 512 by default
  CHECK(fake.steps == Steps{{1, 1}, {5, 600}, {6, 10}});
  CHECK(fake.waiting.empty());
}

TEST_CASE("batchers: sarathi's token budget never exceeds the instance's max_num_batched_tokens") {
  // max_num_batched_tokens is the instance's per-step limit (what the activation reserve is
  // sized for); a larger token_budget is capped to it: 256 tokens of a 600-token prompt
  // next to one decode, 255 of them for the prompt.
  FakeInstance fake;
  fake.budget = 256;
  fake.add_running(1, 20, 21, 2);
  fake.add_waiting(5, 600);
  CHECK_FALSE(make_batcher("sarathi", {{"token_budget", 1000}})->fill(fake));
  CHECK(fake.steps == Steps{{1, 1}, {5, 255}});
}

TEST_CASE("batchers: max_num_seqs stops admissions with budget and blocks left, under every batcher") {
  // Limit 2 sequences: one is decoding, so only the waiting head (10 tokens) joins; 6 and 7
  // wait although 8182 tokens of budget and 999 blocks remain.
  for (const char* name : {"vllm_v1", "sarathi", "priority"}) {
    CAPTURE(name);
    FakeInstance fake;
    fake.seq_limit = 2;
    fake.add_running(1, 20, 21, 2);
    fake.add_waiting(5, 10);
    fake.add_waiting(6, 10);
    fake.add_waiting(7, 10);
    CHECK_FALSE(make_batcher(name)->fill(fake));
    CHECK(fake.steps == Steps{{1, 1}, {5, 10}});
    CHECK(fake.running.size() == 2);
    CHECK(fake.waiting.size() == 2);
    CHECK(fake.preempted.empty());
  }
}

TEST_CASE("batchers: sarathi carries every running decode even past its token budget, prefills get what is left") {
  // Sarathi-Serve adds one token of every running decode before any prefill (stall-free:
  // only memory and max_num_seqs bound them), and prefill chunks take chunk size - decodes,
  // if anything. Token budget 2, three decodes: all three run (3 tokens), the prefill of 4
  // and the waiting 5 get nothing. With budget 5: three decodes, 2 tokens of 4's prefill,
  // no admission.
  for (const std::uint32_t token_budget : {2u, 5u}) {
    CAPTURE(token_budget);
    FakeInstance fake;
    fake.add_running(1, 20, 21, 2);
    fake.add_running(4, 300, 100);
    fake.add_running(2, 20, 21, 2);
    fake.add_running(3, 20, 21, 2);
    fake.add_waiting(5, 10);
    CHECK_FALSE(make_batcher("sarathi", {{"token_budget", token_budget}})->fill(fake));
    CHECK(fake.steps == (token_budget == 2 ? Steps{{1, 1}, {2, 1}, {3, 1}} : Steps{{1, 1}, {2, 1}, {3, 1}, {4, 2}}));
    CHECK(fake.waiting.size() == 1);
  }
  // The instance's max_num_batched_tokens still bounds the step: 2 tokens, 2 decodes.
  FakeInstance capped;
  capped.budget = 2;
  capped.add_running(1, 20, 21, 2);
  capped.add_running(2, 20, 21, 2);
  capped.add_running(3, 20, 21, 2);
  CHECK_FALSE(make_batcher("sarathi", {{"token_budget", 1}})->fill(capped));
  CHECK(capped.steps == Steps{{1, 1}, {2, 1}});
}

TEST_CASE("batchers: priority never preempts for a waiting prompt that only a larger budget would admit") {
  // No chunked prefill, budget 100. Online 1 decodes (99 tokens left); online 5's 120-token
  // prompt must go in whole and cannot this step whatever is freed: preempting the offline
  // decodes 2 and 3 would free blocks and sequence slots, not budget. So nothing is
  // preempted, admissions stop (head-of-line, as in vLLM), and 2 and 3 decode.
  FakeInstance fake;
  fake.chunked = false;
  fake.budget = 100;
  fake.add_running(1, 20, 21, 2);
  fake.add_running(2, 20, 21, 2).request.priority = 1;
  fake.add_running(3, 20, 21, 2).request.priority = 1;
  fake.add_waiting(5, 120);
  fake.add_waiting(6, 10).request.priority = 1;
  CHECK_FALSE(make_batcher("priority")->fill(fake));
  CHECK(fake.preempted.empty());
  CHECK(fake.steps == Steps{{1, 1}, {2, 1}, {3, 1}});
  CHECK(fake.waiting.size() == 2);
}

TEST_CASE("batchers: vllm_v1 preempts latest first until the blocks suffice, the earliest victim ends up at the front") {
  // No free block. Sequence 1 is prefilling (64 of 200 computed, 4 blocks) and the budget
  // is 48 tokens: its chunk reaches 112 tokens, 7 blocks, so it needs 3. 3 (latest) is
  // preempted (2 blocks free), not enough, then 2 (4 free); 1 takes 3, one stays free.
  // Each victim goes to the front of the queue, as vLLM prepends them: 2, 3, then 9.
  FakeInstance fake;
  fake.free = 0;
  fake.budget = 48;
  fake.add_running(1, 200, 64);
  fake.add_running(2, 20, 32, 13);
  fake.add_running(3, 20, 32, 13);
  fake.add_waiting(9, 10);
  CHECK(make_batcher("vllm_v1")->fill(fake));
  CHECK(fake.steps == Steps{{1, 48}});
  CHECK(fake.preempted == std::vector<std::uint64_t>{3, 2});
  CHECK(fake.free == 1);
  std::vector<std::uint64_t> queue;
  for (const auto& s : fake.waiting) queue.push_back(s->request.id);
  CHECK(queue == std::vector<std::uint64_t>{2, 3, 9});
}
