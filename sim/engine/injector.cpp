#include "sim/engine/injector.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

#include "sim/engine/kv_handoff.hpp"
#include "sim/engine/kv_tiers.hpp"
#include "sim/util/interrupt.hpp"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_injector, kvsim_engine, "request release, closed loop and routing");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

Injector::Injector(RunState& run, std::unique_ptr<workload::Source> source)
    : run_(run), source_(std::move(source)), closed_loop_(run.scenario.workload.closed_loop) {}

bool Injector::more_coming() const { return !std::isinf(next_arrival_) || held_count_ > 0 || !ready_.empty(); }

double Injector::earliest_pending() const {
  return std::min(pending_ ? pending_->arrival : kInf, ready_.empty() ? kInf : ready_.top().time);
}

void Injector::await_releases_until(double t) {
  if (next_arrival_ > t) return;
  std::unique_lock lock(*release_mutex_);
  while (next_arrival_ <= t) released_->wait(lock);
}

void Injector::finished(const scheduling::Sequence& seq, const scheduling::ServingEngine& engine) {
  if (!closed_loop_) return;
  const std::uint64_t id = seq.request.id;
  open_.erase(id);
  const auto arrival = trace_arrival_.find(id);
  const double parent_trace_arrival = arrival != trace_arrival_.end() ? arrival->second : seq.request.arrival;
  if (arrival != trace_arrival_.end()) trace_arrival_.erase(arrival);
  auto children = held_.find(id);
  if (children == held_.end()) return;
  for (auto& child : children->second) {
    // Known think time (generated sessions), or the trace's gap between the two arrivals
    // minus what the parent would have taken alone (its response time in the trace).
    const double think =
        child.think_time >= 0
            ? child.think_time
            : std::max(0.0, child.arrival - parent_trace_arrival - engine.solo_latency(seq.request));
    XBT_VERB("request %llu: parent %llu finished at %.9f, released %.9f s later", (unsigned long long)child.id,
              (unsigned long long)id, seq.finish, think);
    ready_.push({seq.finish + think, ready_order_++, std::move(child)});
    --held_count_;
  }
  held_.erase(children);
  next_arrival_ = std::min(next_arrival_, ready_.top().time);
  waiter_.interrupt();
}

void Injector::release_children_at_own_time(std::uint64_t parent, double now) {
  auto children = held_.find(parent);
  if (children == held_.end()) return;
  for (auto& child : children->second) {
    const double at = std::max(now, child.arrival);
    ready_.push({at, ready_order_++, std::move(child)});
    --held_count_;
  }
  held_.erase(children);
}

void Injector::release(workload::Request request, double now) {
  std::size_t target = run_.router->route(request, run_.views, now);
  if (run_.handoff) target = run_.handoff->entry_instance(target);
  Instance& instance = *run_.instances[target];
  std::string reason = instance.engine->rejection_reason(request);
  // A request bound for decode elsewhere must fit there too (any decode instance may be picked).
  if (reason.empty() && run_.handoff && instance.engine->prefill_only() && request.output_tokens > 1)
    reason = run_.handoff->decode_rejection(request);
  if (!reason.empty()) {
    run_.recorder.rejected(request, now, instance.index, reason);
    if (closed_loop_) {
      open_.erase(request.id);
      trace_arrival_.erase(request.id);
      release_children_at_own_time(request.id, now);
    }
  } else {
    run_.recorder.released(request, now, instance.index);
    XBT_VERB("request %llu at %.9f -> instance %d", (unsigned long long)request.id, now, instance.index);
    request.arrival = now;
    instance.engine->enqueue(std::move(request));
    instance.interrupt(now);
  }
  run_.progress->update(now, run_.recorder.done());
}

void Injector::run() {
  const double limit = run_.scenario.time_limit;
  pending_ = source_->next();
  double last_arrival = 0;
  while (true) {
    throw_if_interrupted("the simulation stopped while releasing requests");
    const double from_source = pending_ ? pending_->arrival : kInf;
    const double from_ready = ready_.empty() ? kInf : ready_.top().time;
    const double t = std::min(from_source, from_ready);
    next_arrival_ = t;
    XBT_VERB("next release at %.9f (%zu turns held)", t, held_count_);
    if (std::isinf(t) && held_count_ == 0) break;  // nothing left to release
    if (t > limit || std::isinf(t)) {
      if (held_count_ == 0) break;
      // Parents still running may release turns before the limit.
      if (waiter_.wait(limit, {}) == Waiter::kDeadline && !std::isinf(limit)) break;
      continue;
    }
    if (t > sg4::Engine::get_clock() && waiter_.wait(t, {}) == Waiter::kInterrupted)
      continue;  // a finished parent scheduled a turn, maybe earlier than t
    workload::Request request;
    if (from_source <= from_ready) {
      request = std::move(*pending_);
      pending_ = source_->next();
      if (request.arrival < last_arrival)
        throw std::runtime_error("workload produced request " + std::to_string(request.id) + " out of arrival order");
      last_arrival = request.arrival;
      if (closed_loop_) {
        const bool parent_open = request.parent >= 0 && open_.contains(std::uint64_t(request.parent));
        open_.insert(request.id);
        trace_arrival_[request.id] = request.arrival;
        if (parent_open) {
          held_[std::uint64_t(request.parent)].push_back(std::move(request));
          ++held_count_;
          continue;
        }
      }
    } else {
      request = std::move(const_cast<Ready&>(ready_.top()).request);
      ready_.pop();
    }
    release(std::move(request), t);
    // Only now is the request no longer due: until here, instances at a boundary >= t
    // wait for it, and no instance may conclude that nothing more is coming.
    next_arrival_ = earliest_pending();
    released_->notify_all();
  }
  next_arrival_ = kInf;
  released_->notify_all();
  for (auto& instance : run_.instances) instance->interrupt(-1);
}

}  // namespace kvsim::engine
