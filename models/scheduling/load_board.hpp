// The outstanding tokens of a set of instances, kept side by side for a router that reads
// them all at every request (least_loaded_index and the candidate bounds of prefix_affinity
// scan every instance). Reading ServingEngine::outstanding_tokens instance by instance
// touches each engine and its step plan, two cache misses each: at 1,024 instances that was
// 15 % of a cluster run. An engine's figure is a step function of time that changes only
// when the engine is called (enqueue, plan, apply, a finished load: it then marks its entry
// stale through the boards watching it) or when one of its planned steps ends. So an entry
// holds the figure with the interval between two step ends over which it stands, and is
// read again from the engine only outside that interval or once marked stale. The values
// are the engine's own (outstanding_tokens), so routing decisions are unchanged.
//
// A router that needs only the least-loaded instance and the loads of a few others need
// not look at every entry either: refresh(t) re-reads just the entries marked stale and
// those whose interval has ended (found through a tournament tree of interval ends), and
// a tournament tree of the loads (LeastIndex) answers least() in O(1) after
// O(log instances) per re-read entry.
// The entries re-read per request are about the step ends since the previous request,
// which stay constant at proportional load, so routing costs O(log instances) per request
// and per step end instead of O(instances) per request.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "models/scheduling/serving_engine.hpp"

namespace kvsim::scheduling {

// The index of the smallest of a vector of values kept up to date one value at a time:
// ties go to the lowest index, as a scan with `<` would choose. A complete binary tree
// whose leaves are the values (padded with +infinity to a power of two) and whose inner
// nodes hold the index of their subtree's winner; set() replays one leaf's path to the root.
class LeastIndex {
 public:
  explicit LeastIndex(std::size_t n = 0) { reset(n); }

  // n values, all +infinity.
  void reset(std::size_t n) {
    leaves_ = std::bit_ceil(std::max<std::size_t>(1, n));
    nodes_.resize(2 * leaves_);
    for (std::size_t i = 0; i < leaves_; ++i) nodes_[leaves_ + i] = {std::numeric_limits<double>::infinity(), std::uint32_t(i)};
    for (std::size_t node = leaves_; node-- > 1;) nodes_[node] = nodes_[2 * node];
  }
  void set(std::size_t i, double value) {
    nodes_[leaves_ + i].value = value;
    for (std::size_t node = (leaves_ + i) / 2; node >= 1; node /= 2) {
      const Node& l = nodes_[2 * node];
      const Node& r = nodes_[2 * node + 1];
      const Node& winner = r.value < l.value ? r : l;  // l's indices are the lower: ties keep l
      // Same winner, not i, hence same value: nothing above changes (most updates stop low).
      if (winner.index == nodes_[node].index && winner.index != i) return;
      nodes_[node] = winner;
    }
  }
  // Sets every value at once (O(n), not O(n log n)).
  void assign(const std::vector<double>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) nodes_[leaves_ + i].value = values[i];
    for (std::size_t node = leaves_; node-- > 1;) {
      const Node& l = nodes_[2 * node];
      const Node& r = nodes_[2 * node + 1];
      nodes_[node] = r.value < l.value ? r : l;
    }
  }
  // (With a single leaf, node 1 is that leaf.)
  std::size_t least() const { return nodes_[1].index; }
  double value(std::size_t i) const { return nodes_[leaves_ + i].value; }

 private:
  // A leaf holds its own value and index, an inner node a copy of its subtree's winner
  // (the value beside the index: no indirection per level).
  struct Node {
    double value;
    std::uint32_t index;
  };
  std::size_t leaves_ = 1;
  std::vector<Node> nodes_;  // heap order: root 1, children 2n and 2n + 1, leaves from leaves_
};

class LoadBoard {
 public:
  explicit LoadBoard(std::size_t instances) : entries_(instances) {}

  // The engine watched in slot changed its books: its figure must be read again.
  void stale(std::uint32_t slot) {
    Entry& e = entries_[slot];
    e.until = -std::numeric_limits<double>::infinity();
    if (ordered_ && !e.dirty) {
      e.dirty = true;
      dirty_.push_back(slot);
    }
  }

  // engine.outstanding_tokens(t), where engine is the one watched in slot.
  double load(std::uint32_t slot, const ServingEngine& engine, double t) {
    Entry& e = entries_[slot];
    if (!(e.from <= t && t < e.until)) read(slot, engine, t);
    return e.load;
  }

  // Brings every entry up to date at t (engines[slot] is the engine watched in slot):
  // afterwards load(slot) and least() answer for t. t must not go back between calls.
  // The tree and the heap are kept only from the first refresh on (a board read through
  // load(slot, engine, t) alone needs neither).
  void refresh(std::span<const ServingEngine* const> engines, double t) {
    if (!ordered_) {
      ordered_ = true;
      least_.reset(entries_.size());
      next_end_.reset(entries_.size());
      for (std::uint32_t slot = 0; slot < entries_.size(); ++slot) {
        entries_[slot].dirty = true;
        dirty_.push_back(slot);
      }
    }
    assert(t >= refreshed_);
    refreshed_ = t;
    for (const std::uint32_t slot : dirty_) read(slot, *engines[slot], t);
    dirty_.clear();
    // Each read moves the entry's interval end past t, so this ends.
    for (std::size_t slot = next_end_.least(); next_end_.value(slot) <= t; slot = next_end_.least())
      read(std::uint32_t(slot), *engines[slot], t);
  }
  // After refresh(t): the figure of slot at t, and the slot of the least (lowest slot on ties).
  double load(std::uint32_t slot) const { return entries_[slot].load; }
  std::uint32_t least() const { return std::uint32_t(least_.least()); }

 private:
  struct Entry {
    double load = 0;
    double from = 0;
    double until = -std::numeric_limits<double>::infinity();  // stale until first read
    bool dirty = false;                                        // listed in dirty_
  };
  void read(std::uint32_t slot, const ServingEngine& engine, double t) {
    Entry& e = entries_[slot];
    const StepPlan& plan = engine.current_plan();
    // outstanding_tokens(t) counts the steps ended by t (done_by looks on from its previous
    // answer first: reads come in non-decreasing time).
    const std::size_t done = plan.done_by(t);
    e.load = engine.outstanding_tokens_after(done);
    // The figure stays from the end of the last step counted up to (not including) the end
    // of the next.
    e.from = done > 0 ? plan.end(done - 1) : -std::numeric_limits<double>::infinity();
    e.until = done < plan.size() ? plan.end(done) : std::numeric_limits<double>::infinity();
    e.dirty = false;
    if (!ordered_) return;
    least_.set(slot, e.load);
    next_end_.set(slot, e.until);
  }

  std::vector<Entry> entries_;
  LeastIndex least_;
  std::vector<std::uint32_t> dirty_;                     // slots marked stale since their last read
  LeastIndex next_end_;                                  // the entries' interval ends (until)
  double refreshed_ = -std::numeric_limits<double>::infinity();
  bool ordered_ = false;  // refresh() was called: least_, next_end_ and dirty_ are maintained
};

}  // namespace kvsim::scheduling
