// Shared eviction machinery of wa and wa-online (see wa_core.hpp).
#include "models/kvcache/eviction/wa_core.hpp"

#include <cmath>
#include <limits>

namespace kvsim::kvcache::eviction {

void WorkloadAwarePolicy::place(Slot s) {
  const BlockMeta& b = state_.blocks[s];
  const std::uint32_t index = b.accesses > 1 || !once_first_ ? std::uint32_t(b.category) + 1 : kOnce;
  list_of_[s] = index;
  list(index).push_back(links_, s);
}

void WorkloadAwarePolicy::insert(Slot s) {
  observed(s);
  place(s);
}

void WorkloadAwarePolicy::touch(Slot s) {
  observed(s);
  list(list_of_[s]).remove(links_, s);
  place(s);
}

Slot WorkloadAwarePolicy::victim() {
  if (!lists_.empty() && !lists_[kOnce].empty()) {
    const Slot s = lists_[kOnce].pop_front(links_);
    return s;
  }
  constexpr double kZero = -std::numeric_limits<double>::infinity();
  std::uint32_t best = 0;
  double best_priority = 0, best_last = 0;
  for (std::uint32_t index = 1; index < lists_.size(); ++index) {
    if (lists_[index].empty()) continue;
    const BlockMeta& b = state_.blocks[lists_[index].front()];
    const CategoryModel m = model(static_cast<std::uint16_t>(index - 1));
    double priority = kZero;
    if (m.lambda > 0 && m.p > 0) {
      const double idle = std::max(0.0, state_.now - b.last_access);
      priority = std::log(m.p) - m.lambda * idle + std::log(-std::expm1(-m.lambda * lookahead_));
    }
    if (best == 0 || priority < best_priority || (priority == best_priority && b.last_access < best_last)) {
      best = index;
      best_priority = priority;
      best_last = b.last_access;
    }
  }
  return lists_[best].pop_front(links_);
}

}  // namespace kvsim::kvcache::eviction
