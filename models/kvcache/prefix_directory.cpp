#include "models/kvcache/prefix_directory.hpp"

#include <algorithm>
#include <stdexcept>

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
  depth.assign(holders_, 0);
  // Invariant: before block b, depth[h] == b exactly for the holders of all of ids[0, b).
  // A holder of ids[b] extends its run only if it is one of them.
  const std::size_t limit = std::min<std::size_t>(ids.size(), max_blocks);
  std::uint32_t scratch = 0;
  for (std::size_t b = 0; b < limit; ++b) {
    bool extended = false;
    for (const std::uint32_t h : holders_of(ids[b], scratch)) {
      if (depth[h] != b) continue;
      depth[h] = std::uint32_t(b + 1);
      extended = true;
    }
    if (!extended) break;
  }
}

}  // namespace kvsim::kvcache
