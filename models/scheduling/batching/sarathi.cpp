// sarathi: Sarathi-Serve's stall-free batching (Agrawal et al., OSDI'24). Every step first
// carries one token of each running decode, so a long prefill never stalls generation
// (bounded only by max_num_batched_tokens, not by the token budget); then the prefill
// chunks of running sequences whose prompt is partly computed; then new admissions in FCFS
// order; prefills within a fixed token budget less the decodes (the paper's chunk size, which
// bounds each step's time and so the TPOT of the decodes riding along), at most the
// instance's max_num_batched_tokens; without chunked prefill (no chunks) the budget is
// max_num_batched_tokens.
// Preemption is vLLM's (most recently admitted first, recompute), with one difference the
// two-pass order requires: a prefill chunk never preempts a decode already placed in the
// step; if the blocks are not there, the chunk waits for a later step.
#include <algorithm>

#include "models/scheduling/batching/batcher.hpp"

namespace kvsim::scheduling::batching {

namespace {

class Sarathi final : public Batcher {
 public:
  explicit Sarathi(const Params& params) : token_budget_(std::uint32_t(params.at("token_budget"))) {}

  bool fill(StepContext& ctx) override {
    // token_budget is the paper's chunk size. Without chunked prefill there are no chunks,
    // and a prompt longer than it would wait forever (the engine admits any request that
    // fits max_num_batched_tokens): the budget is then the instance's step limit. It never
    // exceeds that limit, which bounds every step (and sizes the activation reserve).
    const std::uint32_t limit = ctx.max_num_batched_tokens();
    const std::uint32_t chunk = token_budget_ > 0 && ctx.chunked_prefill() ? std::min(token_budget_, limit) : limit;
    bool preempted = false;
    std::uint32_t used = 0;    // tokens in the step
    std::uint32_t budget = 0;  // tokens left for prefill chunks and admissions
    // Pass 1 decodes, pass 2 prefill chunks: the same walk in admission order, by kind. A
    // pass-2 preemption may take a skipped sequence ahead of the current one, hence the
    // snapshot. Decodes are not held to the chunk size (that would stall them, which is what
    // stall-free batching avoids; Sarathi-Serve adds every running decode), only to the
    // instance's step limit; prefills take what the chunk size leaves after them.
    for (const bool decodes : {true, false}) {
      if (!decodes) budget = chunk > used ? chunk - used : 0;
      for (Sequence* seq : running_snapshot(ctx)) {
        const std::uint32_t left = decodes ? limit - used : budget;
        if (left == 0) break;
        if (!seq->is_running || seq->loading || seq->in_step || seq->prefilling() == decodes) continue;
        const Scheduled s = schedule_or_preempt(ctx, *seq, left);
        preempted = preempted || s.preempted_any;
        if (s.preempted_self) break;
        used += s.tokens;
        if (!decodes) budget -= s.tokens;
      }
    }
    if (!preempted) admit_in_order(ctx, budget);
    return preempted;
  }

 private:
  std::uint32_t token_budget_;
};

}  // namespace

std::unique_ptr<Batcher> make_sarathi(const Params& params) { return std::make_unique<Sarathi>(params); }

}  // namespace kvsim::scheduling::batching
