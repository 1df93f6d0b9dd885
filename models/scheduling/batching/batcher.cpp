// Building blocks shared by the batchers (see batcher.hpp).
#include "models/scheduling/batching/batcher.hpp"

#include <algorithm>

namespace kvsim::scheduling::batching {

Sequence* latest_preemptible(StepContext& ctx, const Sequence&) {
  const auto& running = ctx.running_sequences();
  for (auto it = running.rbegin(); it != running.rend(); ++it)
    if (!(*it)->loading && !(*it)->in_step) return it->get();
  return nullptr;
}

Sequence* least_important_preemptible(StepContext& ctx, const Sequence& for_seq) {
  Sequence* best = nullptr;
  const auto& running = ctx.running_sequences();
  for (auto it = running.rbegin(); it != running.rend(); ++it) {
    Sequence* s = it->get();
    if (s->loading || s->in_step) continue;
    if (best == nullptr || s->request.priority > best->request.priority) best = s;
  }
  if (best != nullptr && best->request.priority < for_seq.request.priority) return const_cast<Sequence*>(&for_seq);
  return best;
}

Scheduled schedule_or_preempt(StepContext& ctx, Sequence& seq, std::uint32_t budget,
                              VictimRule victims) {
  Scheduled result;
  const std::uint32_t wanted = seq.tokens_wanted();
  const std::uint32_t tokens = std::min(wanted, budget);
  if (seq.prefilling() && tokens < wanted && !ctx.chunked_prefill()) return result;
  const std::uint32_t need = ctx.blocks_needed(seq, tokens);
  while (need > ctx.free_blocks()) {
    Sequence* victim = victims(ctx, seq);
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

std::vector<Sequence*> running_snapshot(const StepContext& ctx) {
  std::vector<Sequence*> out;
  out.reserve(ctx.running_sequences().size());
  for (const auto& s : ctx.running_sequences()) out.push_back(s.get());
  return out;
}

void admit_in_order(StepContext& ctx, std::uint32_t& budget) {
  while (!ctx.waiting_sequences().empty() && ctx.running_sequences().size() < ctx.max_num_seqs() && budget > 0) {
    const Admission admission = ctx.admit(*ctx.waiting_sequences().front(), budget);
    if (admission.kind == Admission::Kind::refused) break;
    budget -= admission.tokens;
  }
}

}  // namespace kvsim::scheduling::batching
