// The serving engine of one instance, as plain code (no SimGrid): queues, the paged KV
// pool with prefix caching, loads from lower KV tiers, and continuous batching with
// chunked prefill, max_num_seqs / max_num_batched_tokens limits and preemption by
// recompute. Which sequences run in a step is the batcher's choice (batching/: vllm_v1 by
// default, sarathi, ...); the engine carries it out and keeps the books.
//
// The simulator drives it in three calls: enqueue() when a request is routed here,
// plan() at a step boundary, apply() when planned steps have ended. plan() may plan
// several decode steps at once ("multi-step"): when a batch is decode-only and nothing can
// change it before its first request finishes (no prefill in flight, no waiting request
// that fits), the next k steps have the same composition, so their end times are computed
// up front and the simulator waits once. An arrival in the middle cuts the plan at the next
// step boundary (apply(n) with n < k), so results are identical to stepping one at a time.
//
// The plan is a StepPlan (step_plan.hpp), whose cut_at() is the cutting rule above.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "models/kvcache/backend.hpp"
#include "models/kvcache/block_manager.hpp"
#include "models/scheduling/batching/batcher.hpp"
#include "models/scheduling/kv_receiver.hpp"
#include "models/scheduling/sequence.hpp"
#include "models/scheduling/step_plan.hpp"
#include "workloads/request.hpp"

namespace kvsim::scheduling {

class LoadBoard;  // load_board.hpp

struct EngineParams {
  std::uint32_t block_size = 16;              // tokens per KV block
  std::uint32_t num_blocks = 0;               // KV blocks in HBM
  std::uint32_t max_num_seqs = 256;           // sequences per step
  std::uint32_t max_num_batched_tokens = 8192;  // tokens per step
  std::uint32_t max_model_len = 0;            // prompt + output limit in tokens (0 = none)
  bool chunked_prefill = true;                // split long prefills across steps
  bool prefix_caching = true;                 // reuse cached prefix blocks
  bool multi_step = true;                     // plan several identical decode steps at once
  kvcache::EvictionChoice eviction;           // policy for cached HBM blocks
  std::string batcher = "vllm_v1";            // batching/ registry name
  ParamValues batcher_params;                 // its parameters (defaults for the rest)
  // P/D disaggregation, prefill side: a sequence leaves this instance once its prefill has
  // produced the first token (handed_off; the rest of its output is decoded elsewhere).
  bool prefill_only = false;
};

class ServingEngine final : private batching::StepContext {
 public:
  using FinishCallback = std::function<void(const Sequence&)>;

  ServingEngine(const EngineParams& params, const compute::PerfModel& perf);

  // Whether the request's prompt plus output can ever be held by this instance's KV pool.
  bool can_ever_fit(const workload::Request& request) const { return rejection_reason(request).empty(); }
  // Why the request can never be served here ("" when it can).
  std::string rejection_reason(const workload::Request& request) const;
  void enqueue(workload::Request request);

  // Lower KV tiers (none by default). The backend must outlive the engine.
  void set_backend(kvcache::KvBackend* backend);
  // A load started through the backend for request_id has completed at time now: its
  // blocks become usable and the request joins the next step.
  void load_done(std::uint64_t request_id, double now);

  // P/D disaggregation, decode side. enqueue_prefilled queues a sequence whose prefill (and
  // first token) another instance computed: prefilled is its state there. When admitted it
  // takes blocks for its context here (full blocks already cached here are reused) and the
  // rest of the context KV is pulled through the receiver (at least one token); it decodes
  // once load_done() reports the KV arrived. Preempted later, it recomputes here like any
  // sequence. The receiver must outlive the engine.
  void set_receiver(KvReceiver* receiver) { receiver_ = receiver; }
  void enqueue_prefilled(const Sequence& prefilled);
  bool prefill_only() const { return params_.prefill_only; }
  // What routing request here adds to outstanding_tokens: its prompt and output on a mixed
  // instance; its prompt on a prefill instance (prefill_only: a decode instance generates
  // the output); on a decode instance (one with a KV receiver) the output after the first
  // token, which the prefill side produced.
  double work_of(const workload::Request& request) const {
    if (receiver_) return request.output_tokens > 0 ? double(request.output_tokens - 1) : 0.0;
    return double(request.input_tokens) + (params_.prefill_only ? 0.0 : double(request.output_tokens));
  }
  // Whether admissions look up cached prefixes (in HBM and the tiers below) at all.
  bool prefix_caching() const { return params_.prefix_caching; }
  // Prefill side: a handed-off sequence keeps its blocks pinned (in use, not evictable) until
  // the decode side has read its KV; then this returns them to the prefix cache.
  void release_handed_off(std::uint64_t request_id);
  // Handed-off sequences whose blocks are still pinned here.
  std::size_t handed_off_pinned() const { return handed_off_.size(); }

  bool idle() const { return running_.empty() && waiting_.empty(); }
  std::size_t running() const { return running_.size(); }
  std::size_t waiting() const { return waiting_.size(); }

  // Plans the next step(s) starting at now; returns false if nothing can run. Steps that
  // would end after time_limit are not planned, except the first one.
  bool plan(double now, double time_limit);
  const StepPlan& current_plan() const { return plan_; }

  // Completes the first n steps of the current plan; finished requests are passed to
  // on_finish (in admission order) and leave the engine; so do sequences handed off by a
  // prefill-only instance (Sequence::handed_off, finish still -1).
  void apply(std::size_t n, const FinishCallback& on_finish);

  // Evictions inside a multi-step plan. When lower tiers observe HBM's evictions, a
  // decode-only plan with nothing waiting may also take cached free blocks: nothing but
  // the plan changes the pool while it runs, so its victims are the next ones in the
  // policy's order, but each must be evicted (identity dropped, demotion started) at the
  // start of the step that needs it, where a one-step-at-a-time scheduler would allocate.
  // next_eviction(steps): the start of the next step among the plan's first `steps` that
  // evicts and has not yet, or +inf. evict_due(t): performs the evictions of the steps
  // starting at or before t and reports them to the backend; the blocks stay empty for
  // the plan's own allocations at apply. apply() performs any the caller left out (at
  // apply time, so an exact caller runs them at their times); a plan cut before a step
  // never performs that step's evictions.
  double next_eviction(std::size_t steps) const;
  void evict_due(double t);

  // Prompt tokens still to compute plus output tokens still to generate here, over all
  // requests routed here, as of time t (counting planned steps that have ended by t). A
  // prefill instance (prefill_only) counts no output: a decode instance generates it, and a
  // router weighing prefill instances by their queues should see only their prefill work.
  double outstanding_tokens(double t) const;
  // outstanding_tokens(t) at a time t by which `done` steps of the current plan have ended
  // (the load board counts them itself, step end by step end).
  double outstanding_tokens_after(std::size_t done) const { return outstanding_ - double(done) * reduction_per_step_; }
  // Has board's entry slot marked stale whenever the figures outstanding_tokens reads
  // change (load_board.hpp). Const: watching is not part of the engine's state; the engine
  // shares ownership of the board so that it never marks a board already gone.
  void watch_load(std::shared_ptr<LoadBoard> board, std::uint32_t slot) const;

  // Every request still queued or running (for end-of-run accounting).
  void for_each_unfinished(const std::function<void(const Sequence&)>& visit) const;

  const kvcache::BlockManager& blocks() const { return blocks_; }
  // HBM blocks holding data at time t (t not before the current plan's start), as a one-
  // step-at-a-time scheduler would hold them: a multi-step plan allocates its later steps'
  // blocks only when applied, so blocks().occupied() lags behind while it runs. What the
  // samplers record (/timeseries/instances, /timeseries/tier_occupancy).
  std::uint32_t occupied_blocks_at(double t) const;
  // Reports this instance's cached HBM blocks to a cluster-wide index (routers' view).
  void report_blocks_to(kvcache::PrefixDirectory* directory, std::uint32_t holder) {
    blocks_.report_to(directory, holder);
  }
  // Prompt blocks looked up in HBM at admissions (full blocks, at most input-1 tokens).
  std::uint64_t lookup_blocks() const { return lookup_blocks_; }
  // Seconds the request would take alone on this instance with nothing cached: its prefill
  // in max_num_batched_tokens chunks, then one decode step per further output token.
  double solo_latency(const workload::Request& request) const;
  // Seconds to prefill `tokens` prompt tokens alone that follow `cached` tokens already in
  // HBM, in max_num_batched_tokens chunks, each attending to everything before it (what a
  // router estimates for the part of a prompt an instance lacks).
  double prefill_time_after(std::uint64_t cached, std::uint64_t tokens) const;
  // What recomputing `tokens` prompt tokens after `cached` adds to a prefill step (their
  // work without the per-step overhead, which the request's prefill pays anyway): the time
  // a lower-tier load of those tokens must beat under load_vs_recompute = auto.
  double recompute_seconds(std::uint64_t cached, std::uint64_t tokens) const;
  std::uint64_t steps() const { return steps_; }
  std::uint64_t preemptions() const { return preemptions_; }
  const compute::BatchShape& last_shape() const { return shape_; }

 private:
  struct InStep {
    Sequence* seq;
    std::uint32_t chunk;
  };

  // StepContext: what the batcher sees and does (batching/batcher.hpp).
  const std::vector<std::unique_ptr<Sequence>>& running_sequences() const override { return running_; }
  const std::deque<std::unique_ptr<Sequence>>& waiting_sequences() const override { return waiting_; }
  std::uint32_t max_num_seqs() const override { return params_.max_num_seqs; }
  double prefill_time(std::uint64_t tokens) const override;
  std::uint32_t max_num_batched_tokens() const override { return params_.max_num_batched_tokens; }
  bool chunked_prefill() const override { return params_.chunked_prefill; }
  std::uint32_t blocks_needed(const Sequence& seq, std::uint32_t tokens) const override;
  std::uint32_t free_blocks() const override { return blocks_.free_blocks(); }
  void schedule(Sequence& seq, std::uint32_t tokens) override;
  void preempt(Sequence& victim) override;
  batching::Admission admit(Sequence& seq, std::uint32_t budget) override;

  std::uint32_t blocks_for(std::uint64_t tokens) const {
    return static_cast<std::uint32_t>((tokens + params_.block_size - 1) / params_.block_size);
  }
  double remaining(const Sequence& s) const;
  // Eviction category (type x turn) of the sequence's request.
  static std::uint16_t category_of(const Sequence& s);
  std::size_t multi_step_count() const;
  // Blocks the first k steps of the current decode-only plan need beyond those allocated.
  std::uint64_t extra_blocks(std::uint32_t k) const;
  // Fills due_evictions_ for the current multi-step plan (evictions observed).
  void schedule_evictions();
  // Appends a step of this shape starting at start to the plan unless it would end after
  // time_limit (the first step of a plan is always pushed).
  bool push_step(double start, const compute::BatchShape& shape,
                 double time_limit = std::numeric_limits<double>::infinity());
  void publish_prompt_blocks(Sequence& s);
  bool try_start_load(Sequence& seq, std::uint32_t matched, std::uint32_t unreferenced, std::uint32_t max_hit);
  void report_evictions();
  // Moves seq from the waiting queue to the end of the running list.
  void start_running(Sequence& seq);
  // admit() for a sequence whose context KV comes from a prefill instance.
  batching::Admission admit_prefilled(Sequence& seq);

  EngineParams params_;
  const compute::PerfModel& perf_;
  std::unique_ptr<batching::Batcher> batcher_;
  kvcache::BlockManager blocks_;
  kvcache::KvBackend* backend_ = nullptr;
  KvReceiver* receiver_ = nullptr;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;
  // request -> block table of handed-off sequences until release_handed_off (prefill side).
  std::unordered_map<std::uint64_t, std::vector<kvcache::BlockIndex>> handed_off_;

  // Current plan.
  std::vector<InStep> scheduled_;
  StepPlan plan_;
  compute::BatchShape shape_;
  double reduction_per_step_ = 0;  // outstanding tokens removed by one planned step
  // Evictions of the current plan by step (ascending steps, each > 0; next_eviction), and
  // how many of them have been performed.
  struct DueEviction {
    std::uint32_t step;
    std::uint32_t blocks;
  };
  std::vector<DueEviction> due_evictions_;
  std::size_t evictions_done_ = 0;
  std::vector<std::uint32_t> needed_per_step_;  // scratch of schedule_evictions, kept for its capacity

  double now_ = 0;  // time of the current plan
  std::uint32_t empty_at_plan_ = 0;  // empty HBM blocks once the plan's first step holds its blocks
  bool looked_below_ = false;  // the current plan's admissions asked the lower tiers (plan())
  // Lower-tier runs found for the waiting request being admitted but not loaded (recompute
  // was cheaper), with the blocks looked up: reported once the admission commits.
  std::optional<std::pair<std::vector<kvcache::TierRun>, std::uint32_t>> pending_lookup_;
  double outstanding_ = 0;
  std::vector<kvcache::EvictedBlock> evicted_;  // scratch of report_evictions, kept for its capacity
  // Boards watching outstanding_tokens (watch_load), each with this engine's slot.
  mutable std::vector<std::pair<std::shared_ptr<LoadBoard>, std::uint32_t>> load_watchers_;
  void load_changed();
  std::uint64_t steps_ = 0;
  std::uint64_t lookup_blocks_ = 0;
  std::uint64_t preemptions_ = 0;
};

}  // namespace kvsim::scheduling
