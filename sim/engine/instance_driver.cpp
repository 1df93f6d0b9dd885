#include "sim/engine/instance_driver.hpp"
#include "sim/engine/energy_account.hpp"

#include <algorithm>
#include <stdexcept>

#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

#include "sim/engine/due_evictions.hpp"
#include "sim/engine/injector.hpp"
#include "sim/engine/kv_handoff.hpp"
#include "sim/engine/kv_tiers.hpp"
#include "sim/util/interrupt.hpp"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_instance, kvsim_engine, "instance drivers: plans, waits, steps");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

// transfer: one of its loads (or hand-offs) ended; write: one of its writes ended, which the
// TransferService has already accounted (a driver waits on its writes only when asked to);
// evictions: its EvictionTimer handed the evictions due at `at` back to it.
enum class Woken { deadline, interrupt, transfer, write, evictions };

// A transfer of the instance completed: when it was the last part of a request's load, the
// request's blocks become usable.
void transfer_done(RunState& run, Instance& instance, std::size_t index, double now) {
  const Transfer transfer = run.transfers->complete(std::size_t(instance.index), index, now);
  if (transfer.request == Transfer::kNoRequest) return;
  if (run.handoff && run.handoff->transfer_done(instance, transfer.request, now)) return;
  auto parts = instance.load_parts.find(transfer.request);
  if (--parts->second > 0) return;
  instance.load_parts.erase(parts);
  instance.tiers->load_finished(transfer.request);
  instance.engine->load_done(transfer.request, now);
  XBT_VERB("instance %d: load of request %llu done at %.9f", instance.index, (unsigned long long)transfer.request,
            now);
}

// Waits for the instance's next event; returns what woke it and sets `at` to its time. The
// end of a write wakes it only with_writes. While a plan runs, its eviction timer may
// interrupt the wait (evictions).
Woken wait_event(RunState& run, Instance& instance, double deadline, double& at, bool with_writes = false,
                 EvictionTimer* evictions = nullptr) {
  ++run.waits;
  XBT_VERB("instance %d waits until %.9f", instance.index, deadline);
  instance.forget_wake();
  const auto owner = std::size_t(instance.index);
  const auto& loads = run.transfers->activities(owner);
  const std::size_t waited_loads = loads.size();
  const ssize_t index = with_writes ? instance.waiter.wait(deadline, loads, run.transfers->writes(owner))
                                    : instance.waiter.wait(deadline, loads);
  if (index == Waiter::kDeadline) {
    at = deadline;
    return Woken::deadline;
  }
  if (index == Waiter::kInterrupted) {
    if (evictions != nullptr && evictions->take_fallback(at)) return Woken::evictions;
    at = instance.take_wake_time();
    return Woken::interrupt;
  }
  at = sg4::Engine::get_clock();
  if (std::size_t(index) >= waited_loads) return Woken::write;
  transfer_done(run, instance, std::size_t(index), at);
  return Woken::transfer;
}

// Writes the steps of the plan about to be applied to the step trace.
void trace_steps(RunState& run, const Instance& instance, double start, std::size_t n) {
  const auto& engine = *instance.engine;
  compute::BatchShape shape = engine.last_shape();
  for (std::size_t j = 0; j < n; ++j) {
    if (j > 0) shape.advance_decode();
    const auto& plan = engine.current_plan();
    const double begin = j == 0 ? start : plan.end(j - 1);
    run.step_trace->step(instance.index, begin, plan.end(j), shape, instance.perf->breakdown(shape));
  }
}

}  // namespace

void drive_instance(RunState& run, Instance& instance) {
  const double limit = run.scenario.time_limit;
  auto& engine = *instance.engine;
  auto& injector = *run.injector;
  const std::size_t owner = std::size_t(instance.index);
  const auto on_finish = [&](const scheduling::Sequence& seq) {
    if (seq.handed_off) {  // P/D: prefill done here, the decode goes on elsewhere
      run.handoff->hand_off(seq, instance);
      return;
    }
    run.recorder.finished(seq, instance.index);
    run.progress->update(seq.finish, run.recorder.done());
    injector.finished(seq, engine);
  };

  EvictionTimer evictions(run, instance);
  double now = 0;  // exact time of this instance
  double at = 0;
  while (now <= limit) {
    // The message is built only when a signal came: formatting it on every event cost more
    // than the rest of the loop.
    if (interrupt_requested())
      throw_if_interrupted("the simulation stopped at " + std::to_string(now) + " s of simulated time");
    if (engine.idle()) {
      const bool last = !injector.more_coming() && !(run.handoff && run.handoff->more_coming(instance));
      if (last && run.transfers->idle(owner)) break;
      // A driver ends when its last transfer does, writes included (the sampler runs while
      // drivers do, and the last prefill driver's end wakes the decode drivers): once
      // nothing else can come, its writes are what it waits for.
      const Woken woken = wait_event(run, instance, limit, at, last);
      if (woken == Woken::deadline && at >= limit) break;
      now = std::max(now, at);
      continue;
    }
    XBT_VERB("instance %d at %.9f: awaiting releases (next arrival %.9f)", instance.index, now, injector.next_arrival());
    injector.await_releases_until(now);
    if (!engine.plan(now, limit)) {
      // Nothing to compute until a load completes, a request arrives, or (P/D) a decode
      // instance has read the KV of a request handed off from here, unpinning its blocks.
      if (run.transfers->idle(owner) && engine.handed_off_pinned() == 0)
        throw std::logic_error("instance " + std::to_string(instance.index) + " has queued work but cannot plan a step");
      // Writes wake it here (and it plans again): its queue's head was refused, and the
      // lower tiers that may let it in change without any event of its own. Planning only at
      // arrivals and loads would change results; an instance that cannot plan is rare.
      const Woken woken = wait_event(run, instance, limit, at, true);
      if (woken == Woken::deadline && at >= limit) break;
      now = std::max(now, at);
      continue;
    }
    // Wait for the end of the plan; an arrival or a completed load cuts it at the next
    // step boundary (StepPlan::cut_at). Writes do not wake it: their end changes nothing a
    // plan depends on. The steps that evict do so from the eviction timer (due_evictions.hpp).
    const auto& plan = engine.current_plan();
    std::size_t keep = plan.size();  // steps to complete
    bool ends_run = false;
    evictions.new_plan();
    while (true) {
      const double target = plan.end(keep - 1);
      if (target > limit) {  // the run ends before this step does
        evictions.cancel();
        while (wait_event(run, instance, limit, at) != Woken::deadline) {
        }
        ends_run = true;
        break;
      }
      evictions.arm(keep);
      const Woken woken = wait_event(run, instance, target, at, false, &evictions);
      evictions.cancel();  // re-armed from this clock, for the steps still kept
      if (woken == Woken::deadline) break;
      if (woken == Woken::evictions) {  // the timer met an arrival or wake-up due at their time
        const double evicts = at;
        const DueEvictions done = run_due_evictions(run, instance, evicts, at);
        if (done == DueEvictions::woken_evicting) keep = std::min(keep, plan.done_by(evicts) + 1);
        if (done != DueEvictions::woken) continue;
      }
      if (at < now) continue;  // a wake-up that cuts nothing
      if (plan.done_by(at) >= keep) continue;  // the kept steps end no later: nothing to cut
      keep = std::max(plan.cut_at(at), evictions.kept_steps());
      if (plan.end(keep - 1) == at) break;  // woken exactly at a step end: stop there
    }
    if (ends_run) break;
    if (run.step_trace) trace_steps(run, instance, now, keep);
    account_energy(run, instance, now, keep);
    XBT_VERB("instance %d: %zu step(s) of %u sequences, %.9f -> %.9f", instance.index, keep,
              engine.last_shape().num_seqs, now, plan.end(keep - 1));
    now = plan.end(keep - 1);
    engine.apply(keep, on_finish);
  }
  if (run.handoff) run.handoff->driver_ended(instance);
  run.transfers->close(owner);
  instance.waiter.close();
}

}  // namespace kvsim::engine
