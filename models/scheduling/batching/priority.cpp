// priority: service classes (Request::priority: 0 = online, larger = less important, e.g.
// offline batch work), after Echo's collaborative online-offline serving. Classes are
// served in order of importance: each class's running sequences (prefill chunks or one
// decode token, in admission order), then its waiting ones (FCFS), then the next class with
// the budget and blocks left over. Preemption takes the least important class first (the
// most recently admitted of it), never a more important sequence for a less important
// one. A waiting sequence that does not fit (blocks or max_num_seqs) preempts running
// sequences of less important classes that are not yet in the step; if that is not
// enough, or if it does not fit the budget left (no chunked prefill: preempting frees no
// budget), admissions stop for every class (a less important request never takes the room
// a more important one is waiting for). As in vLLM, a class whose running sequences
// needed a preemption admits nothing in that step, nor does any class after it.
//
// Offline throttle (Echo's idea): with online_ttft_slo > 0, a sequence of a class other
// than 0 is admitted only while the predicted TTFT of online work stays within headroom ×
// online_ttft_slo. The prediction is the step-time model's time to prefill the prompt
// tokens online sequences still have to compute (running or waiting) plus the offline
// prompt tokens already in this step and those of the candidate — the delay an online
// request arriving now would see behind them. It depends on queue contents only, so a
// plan of several decode steps stays exact.
#include <algorithm>
#include <set>

#include "models/scheduling/batching/batcher.hpp"

namespace kvsim::scheduling::batching {

namespace {

class Priority final : public Batcher {
 public:
  explicit Priority(const Params& params) : ttft_slo_(params.at("online_ttft_slo")), headroom_(params.at("headroom")) {}

  bool fill(StepContext& ctx) override {
    std::uint32_t budget = ctx.max_num_batched_tokens();
    bool preempted_any = false;
    bool admissions_closed = false;
    std::uint64_t offline_prefill = 0;  // prompt tokens of classes > 0 in this step
    std::set<std::uint8_t> classes;
    for (const auto& s : ctx.running_sequences()) classes.insert(s->request.priority);
    for (const auto& s : ctx.waiting_sequences()) classes.insert(s->request.priority);
    for (const std::uint8_t c : classes) {
      bool preempted = false;
      for (Sequence* seq : running_snapshot(ctx)) {
        if (budget == 0) break;
        if (seq->request.priority != c || !seq->is_running || seq->loading || seq->in_step) continue;
        const bool prefill = seq->prefilling();
        const Scheduled s = schedule_or_preempt(ctx, *seq, budget, least_important_preemptible);
        preempted = preempted || s.preempted_any;
        budget -= s.tokens;
        if (c > 0 && prefill) offline_prefill += s.tokens;
      }
      preempted_any = preempted_any || preempted;
      admissions_closed = admissions_closed || preempted;
      if (admissions_closed) continue;
      admissions_closed = !admit_class(ctx, c, budget, offline_prefill, preempted_any);
    }
    return preempted_any;
  }

 private:
  // Admits waiting sequences of class c in FCFS order; returns false when one of them did
  // not fit (admissions close for every class).
  bool admit_class(StepContext& ctx, std::uint8_t c, std::uint32_t& budget, std::uint64_t& offline_prefill,
                   bool& preempted_any) {
    std::vector<Sequence*> queue;
    for (const auto& s : ctx.waiting_sequences())
      if (s->request.priority == c) queue.push_back(s.get());
    for (Sequence* seq : queue) {
      if (budget == 0) return true;
      if (c > 0 && throttled(ctx, std::min(seq->tokens_wanted(), budget) + offline_prefill)) return false;
      while (true) {
        const bool room = ctx.running_sequences().size() < ctx.max_num_seqs();
        const Admission a = room ? ctx.admit(*seq, budget) : Admission{};
        if (a.kind != Admission::Kind::refused) {
          budget -= a.tokens;
          if (c > 0) offline_prefill += a.tokens;
          break;
        }
        if (a.over_budget) return false;  // preempting frees no budget
        // Make room from a less important class, if there is any not yet in the step.
        Sequence* victim = least_important_preemptible(ctx, *seq);
        if (victim == nullptr || victim->request.priority <= c) return false;
        ctx.preempt(*victim);
        preempted_any = true;
      }
    }
    return true;
  }

  // Whether admitting offline work that brings this step's offline prompt tokens to
  // `offline_tokens` would push online TTFT past the throttle.
  bool throttled(const StepContext& ctx, std::uint64_t offline_tokens) const {
    if (ttft_slo_ <= 0) return false;
    std::uint64_t online = 0;
    for (const auto& s : ctx.running_sequences())
      if (s->request.priority == 0 && s->prefilling()) online += s->prefill_target - s->computed;
    for (const auto& s : ctx.waiting_sequences())
      if (s->request.priority == 0) online += s->prefill_target - s->computed;
    return ctx.prefill_time(online + offline_tokens) > headroom_ * ttft_slo_;
  }

  double ttft_slo_;
  double headroom_;
};

}  // namespace

std::unique_ptr<Batcher> make_priority(const Params& params) { return std::make_unique<Priority>(params); }

}  // namespace kvsim::scheduling::batching
