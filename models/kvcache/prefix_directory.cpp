#include "models/kvcache/prefix_directory.hpp"

#include <algorithm>
#include <stdexcept>

#include "models/kvcache/prefetch_ahead.hpp"

namespace kvsim::kvcache {

PrefixDirectory::PrefixDirectory(std::uint32_t holders, std::size_t expected_blocks)
    : holders_(holders), index_(expected_blocks) {
  if (holders >= kShared) throw std::invalid_argument("PrefixDirectory: too many holders");
}

void PrefixDirectory::add(workload::BlockId id, std::uint32_t holder) {
  auto [value, inserted] = index_.emplace(id, holder);
  if (inserted) return;
  if (*value & kShared) {
    lists_[*value & ~kShared].push_back(holder);
    return;
  }
  // A second holder: the identity gets a list (value stays valid: lists_ is not index_).
  std::uint32_t list;
  if (!free_lists_.empty()) {
    list = free_lists_.back();
    free_lists_.pop_back();
  } else {
    list = std::uint32_t(lists_.size());
    if (list >= kShared) throw std::length_error("PrefixDirectory: too many shared identities");
    lists_.emplace_back();
  }
  lists_[list].assign({*value, holder});
  *value = kShared | list;
}

void PrefixDirectory::remove(workload::BlockId id, std::uint32_t holder) {
  std::uint32_t* value = index_.find(id);
  if (!value) throw std::logic_error("PrefixDirectory::remove: identity not held");
  if (!(*value & kShared)) {
    if (*value != holder) throw std::logic_error("PrefixDirectory::remove: not a holder");
    index_.erase(id);
    return;
  }
  const std::uint32_t list = *value & ~kShared;
  auto& members = lists_[list];
  const auto it = std::find(members.begin(), members.end(), holder);
  if (it == members.end()) throw std::logic_error("PrefixDirectory::remove: not a holder");
  *it = members.back();
  members.pop_back();
  if (members.size() == 1) {
    *value = members.front();
    members.clear();
    free_lists_.push_back(list);
  }
}

std::span<const std::uint32_t> PrefixDirectory::holders_of(workload::BlockId id, std::uint32_t& scratch) const {
  const std::uint32_t* value = index_.find(id);
  if (!value) return {};
  if (*value & kShared) return lists_[*value & ~kShared];
  scratch = *value;
  return {&scratch, 1};
}

void PrefixDirectory::match(std::span<const workload::BlockId> ids, std::uint32_t max_blocks,
                            std::vector<std::uint32_t>& depth) const {
  match_holders(ids, max_blocks, held_);
  depth.assign(holders_, 0);
  for (const auto& [holder, blocks] : held_) depth[holder] = blocks;
}

void PrefixDirectory::match_holders(std::span<const workload::BlockId> ids, std::uint32_t max_blocks,
                                    std::vector<std::pair<std::uint32_t, std::uint32_t>>& held) const {
  held.clear();
  const std::size_t limit = std::min<std::size_t>(ids.size(), max_blocks);
  if (limit == 0) return;
  entry_of_.resize(holders_, 0);
  std::uint32_t scratch = 0;
  // Invariant: before block b >= 1, the holders of all of ids[0, b) are exactly the entries
  // of held with depth b. A holder of ids[b] extends its run only if it is one of them.
  walk_ahead(
      limit, [&](std::size_t j) { prefetch(ids[j]); },
      [&](std::size_t b) {
        if (b == 0) {
          for (const std::uint32_t h : holders_of(ids[0], scratch)) {
            held.emplace_back(h, 1);
            entry_of_[h] = std::uint32_t(held.size());
          }
          return !held.empty();
        }
        bool extended = false;
        for (const std::uint32_t h : holders_of(ids[b], scratch)) {
          const std::uint32_t entry = entry_of_[h];
          if (entry == 0 || held[entry - 1].second != b) continue;
          held[entry - 1].second = std::uint32_t(b + 1);
          extended = true;
        }
        return extended;
      });
  for (const auto& entry : held) entry_of_[entry.first] = 0;
}

}  // namespace kvsim::kvcache
