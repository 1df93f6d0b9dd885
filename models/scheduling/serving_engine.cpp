#include "models/scheduling/serving_engine.hpp"

#include "models/kvcache/cache_replay.hpp"
#include "models/scheduling/load_board.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace kvsim::scheduling {

ServingEngine::ServingEngine(const EngineParams& params, const compute::PerfModel& perf)
    : params_(params),
      perf_(perf),
      batcher_(batching::make_batcher(params.batcher, params.batcher_params)),
      blocks_(params.num_blocks, params.eviction) {
  if (params.block_size == 0) throw std::invalid_argument("block_size must be positive");
}

std::string ServingEngine::rejection_reason(const workload::Request& request) const {
  if (request.input_tokens == 0 || request.output_tokens == 0) return "an empty prompt or output";
  const std::uint64_t total = std::uint64_t{request.input_tokens} + request.output_tokens;
  // vLLM's OpenAI server refuses a request whose prompt plus max_tokens exceeds the model's
  // max_model_len ("This model's maximum context length is N tokens...") at arrival.
  if (params_.max_model_len > 0 && total > params_.max_model_len)
    return "prompt + output = " + std::to_string(total) + " tokens exceed the model's max_context of " +
           std::to_string(params_.max_model_len);
  // The last sampled token's KV is never computed, hence the -1.
  const std::uint64_t peak_tokens = total - 1;
  if (blocks_for(peak_tokens) > params_.num_blocks)
    return std::to_string(peak_tokens) + " tokens need " + std::to_string(blocks_for(peak_tokens)) +
           " KV blocks; the pool has " + std::to_string(params_.num_blocks);
  // Without chunked prefill a prompt is computed in one step, and a request preempted after
  // generating g tokens must recompute input + g of them in one step, up to peak_tokens; a
  // larger one would wait forever (vLLM likewise requires max_num_batched_tokens >=
  // max_model_len when chunked prefill is off).
  if (!params_.chunked_prefill && peak_tokens > params_.max_num_batched_tokens)
    return std::to_string(peak_tokens) + " tokens exceed max_num_batched_tokens without chunked prefill";
  return {};
}

std::uint16_t ServingEngine::category_of(const Sequence& s) {
  return kvcache::category_index(s.request.category, s.request.turn);
}

double ServingEngine::remaining(const Sequence& s) const {
  // A context whose KV is on its way is not work for this instance: only its output is.
  if (s.remote_kv) return double(s.request.output_tokens - s.generated);
  const double prefill = double(s.prefill_target - std::min(s.computed, s.prefill_target));
  // A prefill instance hands the decode to another: the output is not its work either.
  if (params_.prefill_only) return prefill;
  return prefill + double(s.request.output_tokens - s.generated);
}

void ServingEngine::enqueue(workload::Request request) {
  load_changed();
  auto seq = std::make_unique<Sequence>();
  seq->request = std::move(request);
  seq->prefill_target = seq->request.input_tokens;
  outstanding_ += remaining(*seq);
  waiting_.push_back(std::move(seq));
}

void ServingEngine::enqueue_prefilled(const Sequence& prefilled) {
  if (!receiver_) throw std::logic_error("a prefilled sequence was sent to an instance without a KV receiver");
  load_changed();
  auto seq = std::make_unique<Sequence>();
  seq->request = prefilled.request;
  seq->prefill_target = prefilled.computed;
  seq->generated = prefilled.generated;
  seq->first_token = prefilled.first_token;
  // What the prefill side's admission found and did stays the request's record.
  seq->cached_tokens = prefilled.cached_tokens;
  seq->hbm_hit_blocks = prefilled.hbm_hit_blocks;
  seq->lower_hit_blocks = prefilled.lower_hit_blocks;
  seq->preemptions = prefilled.preemptions;
  seq->load_wait = prefilled.load_wait;
  seq->remote_kv = true;
  outstanding_ += remaining(*seq);
  waiting_.push_back(std::move(seq));
}

batching::Admission ServingEngine::admit_prefilled(Sequence& seq) {
  using batching::Admission;
  // Full context blocks already cached here need not move (vLLM's disaggregation connector
  // pulls only what the decode worker's prefix cache lacks); at least one token moves.
  const std::uint32_t context = seq.prefill_target;
  std::uint32_t matched = 0, unreferenced = 0;
  if (params_.prefix_caching && !seq.request.blocks.empty())
    matched = blocks_.match_prefix(
        seq.request.blocks,
        std::min<std::uint32_t>((context - 1) / params_.block_size, std::uint32_t(seq.request.blocks.size())),
        &unreferenced);
  const std::uint32_t need = blocks_for(context) - matched;
  if (std::uint64_t{need} + unreferenced > blocks_.free_blocks()) return {};
  blocks_.acquire_cached(seq.request.blocks, matched, seq.table, category_of(seq));
  blocks_.allocate(need, seq.table);
  seq.computed = matched * params_.block_size;
  seq.published = matched;
  seq.loading = true;
  start_running(seq);
  receiver_->receive(seq.request.id, context - seq.computed);
  return {Admission::Kind::loading, 0};
}

void ServingEngine::preempt(Sequence& victim) {
  auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& p) { return p.get() == &victim; });
  if (it == running_.end() || victim.in_step || victim.loading)
    throw std::logic_error("batcher preempted a sequence that is not running, is loading, or is in the step");
  outstanding_ -= remaining(victim);
  blocks_.release(victim.table);
  victim.table.clear();
  victim.computed = 0;
  victim.published = 0;
  victim.prefill_target = victim.request.input_tokens + victim.generated;
  ++victim.preemptions;
  ++preemptions_;
  outstanding_ += remaining(victim);
  victim.is_running = false;
  waiting_.push_front(std::move(*it));
  running_.erase(it);
}

std::uint32_t ServingEngine::blocks_needed(const Sequence& seq, std::uint32_t tokens) const {
  return blocks_for(std::uint64_t{seq.computed} + tokens) - std::uint32_t(seq.table.size());
}

void ServingEngine::schedule(Sequence& seq, std::uint32_t tokens) {
  const std::uint32_t wanted = seq.tokens_wanted();
  if (seq.loading || seq.in_step || tokens == 0 || tokens > wanted)
    throw std::logic_error("batcher scheduled a sequence that is loading, already in the step, or too many tokens");
  if (!blocks_.allocate(blocks_needed(seq, tokens), seq.table))
    throw std::logic_error("batcher scheduled a sequence without free blocks");
  seq.in_step = true;
  scheduled_.push_back({&seq, tokens});
  shape_.add(seq.computed, tokens, !seq.prefilling() || tokens == wanted);
}

void ServingEngine::start_running(Sequence& seq) {
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& p) { return p.get() == &seq; });
  seq.is_running = true;
  running_.push_back(std::move(*it));
  waiting_.erase(it);
}

batching::Admission ServingEngine::admit(Sequence& seq, std::uint32_t budget) {
  using batching::Admission;
  if (seq.remote_kv) return admit_prefilled(seq);
  std::uint32_t matched = 0, unreferenced = 0;
  // At least one token must be computed to produce logits, and only full prompt blocks are
  // ever cached.
  const std::uint32_t max_hit =
      std::min((seq.prefill_target - 1) / params_.block_size, seq.request.input_tokens / params_.block_size);
  const bool lookup = params_.prefix_caching && !seq.request.blocks.empty();
  if (lookup) matched = blocks_.match_prefix(seq.request.blocks, max_hit, &unreferenced);
  seq.hbm_hit_blocks = matched;
  seq.lower_hit_blocks = {};
  pending_lookup_.reset();
  if (backend_ && lookup && try_start_load(seq, matched, unreferenced, max_hit)) {
    start_running(seq);
    return {Admission::Kind::loading, 0};
  }
  const std::uint32_t start = matched * params_.block_size;
  const std::uint32_t left = seq.prefill_target - start;
  const std::uint32_t tokens = std::min(left, budget);
  if (tokens < left && !params_.chunked_prefill) return {Admission::Kind::refused, 0, true};
  const std::uint32_t need = blocks_for(std::uint64_t{start} + tokens) - matched;
  if (std::uint64_t{need} + unreferenced > blocks_.free_blocks()) return {};

  if (pending_lookup_) backend_->note_admission(pending_lookup_->first, pending_lookup_->second, false);
  pending_lookup_.reset();
  if (lookup) lookup_blocks_ += max_hit;
  blocks_.acquire_cached(seq.request.blocks, matched, seq.table, category_of(seq));
  blocks_.allocate(need, seq.table);
  outstanding_ -= remaining(seq);
  seq.computed = start;
  seq.cached_tokens = start;
  seq.published = matched;
  outstanding_ += remaining(seq);
  start_running(seq);
  seq.in_step = true;
  scheduled_.push_back({&seq, tokens});
  shape_.add(seq.computed, tokens, tokens == left);
  return {Admission::Kind::scheduled, tokens};
}

void ServingEngine::set_backend(kvcache::KvBackend* backend) {
  backend_ = backend;
  blocks_.record_evictions(backend != nullptr);
}

bool ServingEngine::try_start_load(Sequence& seq, std::uint32_t matched, std::uint32_t unreferenced,
                                   std::uint32_t max_hit) {
  if (matched >= max_hit) return false;
  const auto runs = backend_->match(seq.request.blocks, matched, max_hit);
  looked_below_ = true;
  std::uint32_t found = 0;
  for (const auto& run : runs) found += run.count;
  bool load = false;
  if (found > 0) {
    load = backend_->should_load(
        runs, recompute_seconds(std::uint64_t{matched} * params_.block_size, std::uint64_t{found} * params_.block_size));
  }
  // Not loaded (recomputing is cheaper, or the load does not fit now): an admission by
  // recomputing reports the lookup once it commits.
  if (!load || std::uint64_t{found} + unreferenced > blocks_.free_blocks()) {
    pending_lookup_ = {runs, max_hit - matched};
    return false;
  }
  backend_->note_admission(runs, max_hit - matched, true);
  pending_lookup_.reset();
  lookup_blocks_ += max_hit;

  blocks_.acquire_cached(seq.request.blocks, matched, seq.table, category_of(seq));
  blocks_.allocate(found, seq.table);
  outstanding_ -= remaining(seq);
  seq.computed = matched * params_.block_size;
  seq.cached_tokens = (matched + found) * params_.block_size;
  seq.published = matched;
  outstanding_ += remaining(seq);
  for (const auto& run : runs) seq.lower_hit_blocks[std::size_t(run.tier)] += run.count;
  seq.loading = true;
  seq.loading_blocks = found;
  seq.load_start = now_;
  backend_->start_load(seq.request.id, category_of(seq), seq.request.blocks, runs);
  return true;
}

void ServingEngine::load_done(std::uint64_t request_id, double now) {
  load_changed();
  blocks_.set_time(now);
  for (auto& s : running_) {
    Sequence& seq = *s;
    if (seq.request.id != request_id || !seq.loading) continue;
    if (seq.remote_kv) {  // the context KV from the prefill instance has arrived
      seq.computed = seq.prefill_target;
      seq.remote_kv = false;
      seq.loading = false;
      publish_prompt_blocks(seq);
      return;
    }
    outstanding_ -= remaining(seq);
    seq.computed += seq.loading_blocks * params_.block_size;
    outstanding_ += remaining(seq);
    publish_prompt_blocks(seq);
    seq.loading = false;
    seq.loading_blocks = 0;
    seq.load_wait += now - seq.load_start;
    return;
  }
  throw std::logic_error("load_done for request " + std::to_string(request_id) + " which is not loading");
}

double ServingEngine::prefill_time(std::uint64_t tokens) const { return prefill_time_after(0, tokens); }

double ServingEngine::prefill_time_after(std::uint64_t cached, std::uint64_t tokens) const {
  double total = 0;
  std::uint64_t done = 0;
  while (done < tokens) {
    const std::uint64_t chunk = std::min<std::uint64_t>(tokens - done, params_.max_num_batched_tokens);
    compute::BatchShape shape;
    shape.add(cached + done, chunk, done + chunk == tokens);
    total += perf_.step_time(shape);
    done += chunk;
  }
  return total;
}

double ServingEngine::recompute_seconds(std::uint64_t cached, std::uint64_t tokens) const {
  compute::BatchShape recompute;
  recompute.add(cached, tokens, false);
  const auto cost = perf_.breakdown(recompute);
  return cost.total() - cost.overhead;
}

double ServingEngine::solo_latency(const workload::Request& request) const {
  double total = prefill_time(request.input_tokens);
  compute::BatchShape decode;
  decode.add(request.input_tokens, 1, true);
  for (std::uint32_t token = 1; token < request.output_tokens; ++token) {
    total += perf_.step_time(decode);
    decode.advance_decode();
  }
  return total;
}

void ServingEngine::report_evictions() {
  if (!backend_) return;
  blocks_.take_evicted(evicted_);
  if (!evicted_.empty()) backend_->evicted(evicted_);
}

// Longest multi-step plan. A plan computes every step's time when it is made, but arrivals
// cut most long plans early (a 4-minute cluster run planned 4.68 M steps and ran 2.50 M):
// past ~128 steps the step times computed for nothing cost more than the plans saved.
// A plan cut at a step end changes no result (step_plan.hpp), so neither does the cap.
constexpr std::uint32_t kMaxPlanSteps = 128;

std::size_t ServingEngine::multi_step_count() const {
  // Only a decode-only batch that contains every running request stays the same.
  if (scheduled_.size() != running_.size()) return 1;
  std::uint32_t max_steps = kMaxPlanSteps;
  for (const auto& s : scheduled_) {
    if (s.seq->computed < s.seq->prefill_target) return 1;
    max_steps = std::min(max_steps, s.seq->request.output_tokens - s.seq->generated);
  }
  // Blocks needed by steps 2..k beyond what step 1 allocated must be free now; the
  // requirement grows with k, so search the largest k that fits. Those blocks are taken
  // when the plan is applied. When lower tiers observe HBM's evictions (demotions start
  // transfers and change what other instances find), the evictions among them happen at
  // their steps' starts instead (evict_due). That needs an empty waiting queue: an
  // eviction can drop a block the refused head matched in HBM, and a one-step-at-a-time
  // scheduler would then look it up below HBM (and perhaps load it) at the next step. With
  // a request waiting, a plan may only use empty blocks: the step that would evict ends
  // the plan, and is planned on its own at its real start.
  const std::uint32_t available = blocks_.records_evictions() && !waiting_.empty() ? blocks_.empty_blocks()
                                                                                   : blocks_.free_blocks();
  std::uint32_t lo = 1, hi = max_steps;
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo + 1) / 2;
    if (extra_blocks(mid) <= available)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

std::uint32_t ServingEngine::occupied_blocks_at(double t) const {
  if (plan_.size() <= 1) return blocks_.occupied();  // a single step took its blocks when planned
  // Steps 1.. take their blocks at their starts, empty ones first (allocate's order): an
  // eviction empties a cached block that the step fills again at once, so only the empty
  // blocks taken raise the count. Evictions performed ahead (evict_due) do not lower it.
  const std::size_t started = std::min(plan_.done_by(t) + 1, plan_.size());
  const std::uint64_t taken = std::min<std::uint64_t>(extra_blocks(std::uint32_t(started)), empty_at_plan_);
  return blocks_.capacity() - empty_at_plan_ + std::uint32_t(taken);
}

std::uint64_t ServingEngine::extra_blocks(std::uint32_t k) const {
  std::uint64_t total = 0;
  for (const auto& s : scheduled_) total += blocks_for(std::uint64_t{s.seq->computed} + k) - s.seq->table.size();
  return total;
}

void ServingEngine::schedule_evictions() {
  // Step j (0-based) computes token computed + j + 1 of each sequence: it takes a block
  // when that token lies beyond the blocks held, which first happens at j = held * size -
  // computed and then every block_size steps. Empty blocks go first (allocate's order), so
  // by step j the plan has evicted max(0, needed by steps 1..j - empty blocks now).
  const std::size_t steps = plan_.size();
  auto& needed = needed_per_step_;
  needed.assign(steps, 0);
  for (const auto& s : scheduled_) {
    const std::uint64_t covered = std::uint64_t{s.seq->table.size()} * params_.block_size;
    for (std::uint64_t j = covered - s.seq->computed; j < steps; j += params_.block_size) ++needed[j];
  }
  const std::uint64_t empty = blocks_.empty_blocks();
  std::uint64_t cumulative = 0, evicted = 0;
  for (std::size_t j = 1; j < steps; ++j) {
    cumulative += needed[j];
    const std::uint64_t by_now = cumulative > empty ? cumulative - empty : 0;
    if (by_now > evicted) due_evictions_.push_back({std::uint32_t(j), std::uint32_t(by_now - evicted)});
    evicted = by_now;
  }
}

double ServingEngine::next_eviction(std::size_t steps) const {
  if (evictions_done_ == due_evictions_.size() || due_evictions_[evictions_done_].step >= steps)
    return std::numeric_limits<double>::infinity();
  return plan_.end(due_evictions_[evictions_done_].step - 1);
}

void ServingEngine::evict_due(double t) {
  blocks_.set_time(t);
  for (; evictions_done_ < due_evictions_.size(); ++evictions_done_) {
    const DueEviction& due = due_evictions_[evictions_done_];
    if (plan_.end(due.step - 1) > t) break;
    blocks_.evict_cached(due.blocks);
  }
  report_evictions();
}

bool ServingEngine::plan(double now, double time_limit) {
  load_changed();
  now_ = now;
  blocks_.set_time(now);
  for (const auto& s : scheduled_) s.seq->in_step = false;  // a plan dropped without apply()
  scheduled_.clear();
  plan_.start(now);
  due_evictions_.clear();
  evictions_done_ = 0;
  shape_ = {};
  const std::size_t waiting_before = waiting_.size();
  looked_below_ = false;
  const bool preempted = batcher_->fill(*this);
  report_evictions();
  if (scheduled_.empty()) return false;
  empty_at_plan_ = blocks_.empty_blocks();

  reduction_per_step_ = 0;
  for (const auto& s : scheduled_) {
    const bool prefill = s.seq->computed < s.seq->prefill_target;
    reduction_per_step_ += prefill ? s.chunk : 0;
  }
  if (!params_.prefill_only) reduction_per_step_ += shape_.num_logits;  // remaining(): no output here

  push_step(now, shape_);
  // Several steps at once only when nothing queued could join: nothing was admitted or
  // preempted (the waiting queue is empty or its head was refused for memory or the
  // sequence limit, which only a finish relaxes), and the batcher decides the same way
  // later as now. A head refused after looking below HBM is not settled: what the lower
  // tiers hold changes without this instance's doing (other instances' demotions and loads
  // in a shared tier, and this very step's evictions, demoted after the lookup), and a run
  // found there can let it in (a load needs blocks only for what it loads), so a one-step-
  // at-a-time scheduler would look again at the next step end.
  const bool stable = !preempted && waiting_.size() == waiting_before && !looked_below_ &&
                      batcher_->time_invariant();
  if (params_.multi_step && stable) {
    const std::size_t k = multi_step_count();
    compute::BatchShape shape = shape_;
    for (std::size_t j = 1; j < k; ++j) {
      shape.advance_decode();
      if (!push_step(plan_.last_end(), shape, time_limit)) break;
    }
    if (blocks_.records_evictions()) schedule_evictions();
  }
  return true;
}

bool ServingEngine::push_step(double start, const compute::BatchShape& shape, double time_limit) {
  const compute::StepBreakdown b = perf_.breakdown(shape);
  const double total = b.total();
  if (start + total > time_limit) return false;
  // The kernel share feeds the energy account: computed here, where the breakdown is at hand.
  plan_.push_end(start + total, b.kernel_share());
  return true;
}

double ServingEngine::outstanding_tokens(double t) const {
  return outstanding_tokens_after(plan_.done_by(t));
}

void ServingEngine::watch_load(std::shared_ptr<LoadBoard> board, std::uint32_t slot) const {
  board->stale(slot);
  load_watchers_.emplace_back(std::move(board), slot);
}

void ServingEngine::load_changed() {
  for (const auto& [board, slot] : load_watchers_) board->stale(slot);
}

void ServingEngine::publish_prompt_blocks(Sequence& s) {
  if (!params_.prefix_caching || s.request.blocks.empty()) return;
  const std::uint32_t full = std::min<std::uint32_t>(std::min(s.computed, s.request.input_tokens) / params_.block_size,
                                                     std::uint32_t(s.request.blocks.size()));
  if (s.published >= full) return;
  const std::size_t count = full - s.published;
  blocks_.publish(std::span(s.table).subspan(s.published, count),
                  std::span(s.request.blocks).subspan(s.published, count), s.published, category_of(s));
  s.published = full;
}

void ServingEngine::apply(std::size_t n, const FinishCallback& on_finish) {
  load_changed();
  assert(n >= 1 && n <= plan_.size());
  const double end = plan_.end(n - 1);
  const auto steps = static_cast<std::uint32_t>(n);
  if (n > 1) evict_due(plan_.end(n - 2));  // the applied steps' evictions the caller left out
  blocks_.set_time(end);
  due_evictions_.clear();
  evictions_done_ = 0;
  bool any_finished = false;
  for (const auto& s : scheduled_) {
    Sequence& seq = *s.seq;
    seq.in_step = false;
    const double before = remaining(seq);
    if (seq.computed < seq.prefill_target) {
      assert(n == 1);
      seq.computed += s.chunk;
      publish_prompt_blocks(seq);
      if (seq.computed == seq.prefill_target) {
        ++seq.generated;
        if (seq.first_token < 0) seq.first_token = end;
        seq.handed_off = params_.prefill_only && seq.generated < seq.request.output_tokens;
      }
    } else {
      seq.computed += steps;
      seq.generated += steps;
      // Step 1's blocks were allocated by plan(); later steps' blocks are taken now. The
      // order of these allocations does not matter: all of them pop the eviction queue.
      const std::uint32_t need = blocks_for(seq.computed) - std::uint32_t(seq.table.size());
      if (need > 0 && !blocks_.allocate(need, seq.table)) throw std::logic_error("multi-step plan overran the KV pool");
    }
    outstanding_ -= before - remaining(seq);
    if (seq.generated >= seq.request.output_tokens) {
      seq.finish = end;
      any_finished = true;
    } else if (seq.handed_off) {  // its remaining output is another instance's work
      outstanding_ -= remaining(seq);
      any_finished = true;
    }
  }
  report_evictions();
  steps_ += n;
  scheduled_.clear();
  plan_.clear();
  reduction_per_step_ = 0;
  if (!any_finished) return;
  for (auto it = running_.begin(); it != running_.end();) {
    if ((*it)->finish < 0 && !(*it)->handed_off) {
      ++it;
      continue;
    }
    // A handed-off sequence's blocks stay pinned until the decode side has read them
    // (release_handed_off); a finished one's return to the prefix cache now.
    if (!(*it)->handed_off) {
      blocks_.release((*it)->table);
      (*it)->table.clear();
    }
    if (backend_ && !(*it)->request.blocks.empty()) {
      const auto& blocks = (*it)->request.blocks;
      backend_->completed(std::span(blocks).first(
                              std::min<std::size_t>(blocks.size(), (*it)->request.input_tokens / params_.block_size)),
                          category_of(**it));
    }
    on_finish(**it);
    if ((*it)->handed_off) handed_off_.emplace((*it)->request.id, std::move((*it)->table));
    it = running_.erase(it);
  }
}

void ServingEngine::release_handed_off(std::uint64_t request_id) {
  const auto it = handed_off_.find(request_id);
  if (it == handed_off_.end())
    throw std::logic_error("release_handed_off for request " + std::to_string(request_id) + " which holds no blocks here");
  blocks_.release(it->second);
  handed_off_.erase(it);
}

void ServingEngine::for_each_unfinished(const std::function<void(const Sequence&)>& visit) const {
  for (const auto& s : running_) visit(*s);
  for (const auto& s : waiting_) visit(*s);
}

}  // namespace kvsim::scheduling
