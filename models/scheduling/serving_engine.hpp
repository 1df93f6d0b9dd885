// The serving engine of one instance, as plain code (no SimGrid): queues, the paged KV
// pool with prefix caching, and vLLM-style continuous batching with chunked prefill,
// max_num_seqs / max_num_batched_tokens limits and preemption by recompute.
//
// The simulator drives it in three calls: enqueue() when a request is routed here,
// plan() at a step boundary, apply() when planned steps have ended. plan() may plan
// several decode steps at once ("multi-step"): when a batch is decode-only and nothing can
// change it before its first request finishes (no prefill in flight, no waiting request
// that fits), the next k steps have the same composition, so their end times are computed
// up front and the simulator waits once. An arrival in the middle cuts the plan at the next
// step boundary (apply(n) with n < k), so results are identical to stepping one at a time.
//
// Scheduling order within a step (vLLM V1): running requests first in admission order
// (prefill chunks or one decode token each), preempting the most recently admitted running
// request when KV blocks run out; then waiting requests in FCFS order while the token budget,
// the sequence limit and free blocks allow. No new request is admitted in a step that
// preempted one.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "models/kvcache/backend.hpp"
#include "models/kvcache/block_manager.hpp"
#include "workloads/request.hpp"

namespace kvsim::scheduling {

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
};

struct Sequence {
  workload::Request request;
  std::uint32_t prefill_target = 0;  // tokens to compute before the next sample (input + generated)
  std::uint32_t computed = 0;        // tokens whose KV is computed
  std::uint32_t generated = 0;       // output tokens produced so far
  std::uint32_t cached_tokens = 0;   // prompt tokens found in the prefix cache at last admission
  std::uint32_t published = 0;       // prompt blocks made discoverable in the prefix index
  std::uint32_t preemptions = 0;
  // Prefix blocks found in HBM, and in each lower tier (dram, ssd, remote), at the last
  // admission; loading is true while those lower-tier blocks are on their way to HBM.
  std::uint32_t hbm_hit_blocks = 0;
  std::array<std::uint32_t, 3> lower_hit_blocks{};
  bool loading = false;
  std::uint32_t loading_blocks = 0;  // blocks of the load in flight
  double load_start = -1;            // s
  double load_wait = 0;              // s spent waiting for loads, over all admissions
  double first_token = -1;           // s
  double finish = -1;                // s
  std::vector<kvcache::BlockIndex> table;  // block table, in token order
};

class ServingEngine {
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

  bool idle() const { return running_.empty() && waiting_.empty(); }
  std::size_t running() const { return running_.size(); }
  std::size_t waiting() const { return waiting_.size(); }

  // Plans the next step(s) starting at now; returns false if nothing can run. Steps that
  // would end after time_limit are not planned, except the first one.
  bool plan(double now, double time_limit);
  std::size_t planned_steps() const { return ends_.size(); }
  double step_end(std::size_t i) const { return ends_[i]; }
  // Planned steps whose end is <= t.
  std::size_t steps_done_by(double t) const;

  // Completes the first n planned steps; finished requests are passed to on_finish (in
  // admission order) and leave the engine.
  void apply(std::size_t n, const FinishCallback& on_finish);

  // Prompt tokens still to compute plus output tokens still to generate, over all requests
  // routed here, as of time t (counting planned steps that have ended by t).
  double outstanding_tokens(double t) const;

  // Every request still queued or running (for end-of-run accounting).
  void for_each_unfinished(const std::function<void(const Sequence&)>& visit) const;

  const kvcache::BlockManager& blocks() const { return blocks_; }
  // Prompt blocks looked up in HBM at admissions (full blocks, at most input-1 tokens).
  std::uint64_t lookup_blocks() const { return lookup_blocks_; }
  // Seconds the request would take alone on this instance with nothing cached: its prefill
  // in max_num_batched_tokens chunks, then one decode step per further output token.
  double solo_latency(const workload::Request& request) const;
  std::uint64_t steps() const { return steps_; }
  std::uint64_t preemptions() const { return preemptions_; }
  const compute::BatchShape& last_shape() const { return shape_; }

 private:
  struct Scheduled {
    Sequence* seq;
    std::uint32_t chunk;
  };

  std::uint32_t blocks_for(std::uint64_t tokens) const {
    return static_cast<std::uint32_t>((tokens + params_.block_size - 1) / params_.block_size);
  }
  double remaining(const Sequence& s) const;
  // Eviction category (type x turn) of the sequence's request.
  static std::uint16_t category_of(const Sequence& s);
  void preempt(Sequence* victim);
  bool schedule_running(std::uint32_t& budget);
  void admit_waiting(std::uint32_t& budget);
  std::size_t multi_step_count() const;
  void publish_prompt_blocks(Sequence& s);
  Sequence* pick_victim(const Sequence* current) const;
  bool try_start_load(Sequence& seq, std::uint32_t matched, std::uint32_t unreferenced, std::uint32_t max_hit);
  void report_evictions();

  EngineParams params_;
  const compute::PerfModel& perf_;
  kvcache::BlockManager blocks_;
  kvcache::KvBackend* backend_ = nullptr;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;

  // Current plan.
  std::vector<Scheduled> scheduled_;
  std::vector<double> ends_;
  compute::BatchShape shape_;
  double reduction_per_step_ = 0;  // outstanding tokens removed by one planned step

  double now_ = 0;  // time of the current plan
  // Lower-tier runs found for the waiting request being admitted but not loaded (recompute
  // was cheaper), with the blocks looked up: reported once the admission commits.
  std::optional<std::pair<std::vector<kvcache::TierRun>, std::uint32_t>> pending_lookup_;
  double outstanding_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t lookup_blocks_ = 0;
  std::uint64_t preemptions_ = 0;
};

}  // namespace kvsim::scheduling
