// Building blocks shared by the batchers (see batcher.hpp).
#include "models/scheduling/batching/batcher.hpp"

#include <algorithm>

namespace kvsim::scheduling::batching {

Sequence* latest_preemptible(StepContext& ctx) {
  const auto& running = ctx.running_sequences();
  for (auto it = running.rbegin(); it != running.rend(); ++it)
    if (!(*it)->loading && !(*it)->in_step) return it->get();
  return nullptr;
}

Scheduled schedule_or_preempt(StepContext& ctx, Sequence& seq, std::uint32_t budget) {
  Scheduled result;
  const std::uint32_t wanted = seq.tokens_wanted();
  const std::uint32_t tokens = std::min(wanted, budget);
  if (seq.prefilling() && tokens < wanted && !ctx.chunked_prefill()) return result;
  const std::uint32_t need = ctx.blocks_needed(seq, tokens);
  while (need > ctx.free_blocks()) {
    Sequence* victim = latest_preemptible(ctx);
    if (victim == nullptr) return result;  // only sequences already in the step are left
    ctx.preempt(*victim);
    result.preempted_any = true;
    if (victim == &seq) {
      result.preempted_self = true;
      return result;
    }
  }
  ctx.schedule(seq, tokens);
  result.tokens = tokens;
  return result;
}

void admit_in_order(StepContext& ctx, std::uint32_t& budget) {
  while (!ctx.waiting_sequences().empty() && ctx.running_sequences().size() < ctx.max_num_seqs() && budget > 0) {
    const Admission admission = ctx.admit(*ctx.waiting_sequences().front(), budget);
    if (admission.kind == Admission::Kind::refused) break;
    budget -= admission.tokens;
  }
}

}  // namespace kvsim::scheduling::batching
