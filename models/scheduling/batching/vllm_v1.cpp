// vllm_v1: vLLM V1's scheduler. Running sequences first, in admission order, each with the
// rest of its prefill (chunked to the token budget) or one decode token; when KV blocks run
// out, the most recently admitted running sequence is preempted (recompute). Then waiting
// sequences in FCFS order while the token budget, max_num_seqs and free blocks allow,
// stopping at the first that does not fit; nothing is admitted in a step that preempted.
// The token budget is the instance's max_num_batched_tokens.
#include "models/scheduling/batching/batcher.hpp"

namespace kvsim::scheduling::batching {

namespace {

class VllmV1 final : public Batcher {
 public:
  bool fill(StepContext& ctx) override {
    std::uint32_t budget = ctx.max_num_batched_tokens();
    bool preempted = false;
    const auto& running = ctx.running_sequences();
    for (std::size_t i = 0; i < running.size() && budget > 0; ++i) {
      Sequence& seq = *running[i];
      if (seq.loading) continue;  // joins once its KV has arrived
      const Scheduled s = schedule_or_preempt(ctx, seq, budget);
      preempted = preempted || s.preempted_any;
      if (s.preempted_self) break;
      budget -= s.tokens;
    }
    if (!preempted) admit_in_order(ctx, budget);
    return preempted;
  }
};

}  // namespace

std::unique_ptr<Batcher> make_vllm_v1(const Params&) { return std::make_unique<VllmV1>(); }

}  // namespace kvsim::scheduling::batching
