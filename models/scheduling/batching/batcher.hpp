// The batcher family: the policy that fills one step of an instance — which running
// sequences compute how many tokens, which waiting ones are admitted, which are preempted
// when KV blocks run out. A batcher is plain code: it sees the instance's queues and pool
// through a StepContext and acts only through it; the serving engine does the mechanics
// (block tables, prefix lookups, loads from lower tiers, accounting). One variant per file in
// this folder plus one line in registry.cpp; `kvsim describe batcher.<name>` lists its rule
// and parameters.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "models/scheduling/sequence.hpp"
#include "sim/util/params.hpp"
#include "sim/util/registry.hpp"

namespace kvsim::scheduling::batching {

// What admitting a waiting sequence did.
struct Admission {
  enum class Kind {
    scheduled,  // joined the step with `tokens` tokens
    loading,    // became running while its prefix loads from a lower tier (computes nothing yet)
    refused,    // did not fit (blocks, or an unchunkable prompt over the budget); still waiting
  };
  Kind kind = Kind::refused;
  std::uint32_t tokens = 0;
  // Refused because, without chunked prefill, the rest of its prompt exceeds the budget
  // left: freeing blocks or sequence slots (preempting) cannot let it in this step.
  bool over_budget = false;
};

// The instance as one step is being filled. Implemented by ServingEngine.
class StepContext {
 public:
  virtual ~StepContext() = default;
  // Running sequences in admission order; waiting ones in queue order (preempted ones go
  // back to the front).
  virtual const std::vector<std::unique_ptr<Sequence>>& running_sequences() const = 0;
  virtual const std::deque<std::unique_ptr<Sequence>>& waiting_sequences() const = 0;
  virtual std::uint32_t max_num_seqs() const = 0;
  // Seconds this instance's step-time model gives for computing `tokens` prompt tokens of
  // one sequence from scratch, in max_num_batched_tokens chunks (for batchers that predict
  // latencies, such as the priority batcher's offline throttle).
  virtual double prefill_time(std::uint64_t tokens) const = 0;
  virtual std::uint32_t max_num_batched_tokens() const = 0;
  virtual bool chunked_prefill() const = 0;

  // KV blocks that scheduling `tokens` more tokens of a running sequence takes, and the
  // blocks that can be taken now (empty or evictable).
  virtual std::uint32_t blocks_needed(const Sequence& seq, std::uint32_t tokens) const = 0;
  virtual std::uint32_t free_blocks() const = 0;
  // Adds `tokens` tokens of a running sequence (not loading, not yet in the step) to the
  // step; its blocks must be available (blocks_needed <= free_blocks).
  virtual void schedule(Sequence& seq, std::uint32_t tokens) = 0;
  // Releases a running sequence's blocks and puts it at the front of the waiting queue, to
  // be recomputed. It must not be in the step.
  virtual void preempt(Sequence& seq) = 0;
  // Admits a waiting sequence with at most `budget` tokens this step (prefix lookup, a load
  // from lower tiers when cheaper than recomputing, block allocation).
  virtual Admission admit(Sequence& seq, std::uint32_t budget) = 0;
};

class Batcher {
 public:
  virtual ~Batcher() = default;
  // Fills one step through ctx. Returns whether it preempted a sequence.
  virtual bool fill(StepContext& ctx) = 0;
  // Whether, with no arrival, finish or load in between, the next step is filled the same
  // way (true for batchers that look only at queue contents; false for one that reacts to
  // the passage of time, such as a deadline). Multi-step planning relies on it.
  virtual bool time_invariant() const { return true; }
};

struct BatcherEntry {
  std::string name;  // registry name, equal to the variant's file name
  std::string help;
  std::vector<ParamSpec> params;  // from [instances.batcher_params]
  std::unique_ptr<Batcher> (*make)(const Params& params);
};

const Registry<BatcherEntry>& batchers();
// The batcher of that name with its parameters resolved from overrides.
std::unique_ptr<Batcher> make_batcher(const std::string& name, const ParamValues& overrides = {});

// Building blocks shared by the variants.

// Victim rules: whom to preempt to make room for `for_seq` (itself a candidate); nullptr
// when only sequences already in the step, or loading, are left.
// The most recently admitted running sequence that is neither loading (a load in flight
// cannot be called back) nor already in the step.
Sequence* latest_preemptible(StepContext& ctx, const Sequence& for_seq);
// The same among the sequences of the least important service class present (largest
// Request::priority), so offline work is preempted before online work; never one more
// important than for_seq (for_seq itself instead).
Sequence* least_important_preemptible(StepContext& ctx, const Sequence& for_seq);

struct Scheduled {
  std::uint32_t tokens = 0;     // tokens of seq in the step (0: not scheduled)
  bool preempted_any = false;   // some sequence was preempted to make room
  bool preempted_self = false;  // seq itself was: every later sequence is gone or loading
};
// Schedules up to `budget` tokens of running sequence seq (the rest of its prefill or one
// decode token; nothing for an unchunkable prefill over the budget), preempting the most
// recently admitted preemptible sequences while blocks are short; seq itself is preempted
// when it is the latest preemptible one.
using VictimRule = Sequence* (*)(StepContext& ctx, const Sequence& for_seq);
Scheduled schedule_or_preempt(StepContext& ctx, Sequence& seq, std::uint32_t budget,
                              VictimRule victims = latest_preemptible);

// The running sequences as pointers, in admission order: a batcher that may preempt a
// sequence ahead of the one it is scheduling walks this copy and skips sequences whose
// is_running flag has dropped, instead of indices that a preemption would shift.
std::vector<Sequence*> running_snapshot(const StepContext& ctx);

// Admits waiting sequences in queue order while the sequence limit and budget allow; stops
// at the first one refused (head-of-line, as vLLM does, so a large request is not starved).
void admit_in_order(StepContext& ctx, std::uint32_t& budget);

}  // namespace kvsim::scheduling::batching
