// Which holders (serving instances) have each block identity cached in HBM, across a whole
// cluster: the index a cache-aware router keeps from the engines' KV events (llm-d's
// KV-cache indexer, the radix tree of SGLang's router). Each instance's BlockManager reports
// its publishes and evictions here, so the directory holds exactly the union of their
// prefix indexes.
//
// Why: a router that asks every instance "how many leading blocks of this prompt do you
// hold?" pays one hash probe per instance, most of them misses, in as many tables as there
// are instances. match() answers for all holders in one walk of the prompt: one probe per
// block, touching only the holders of that block.
//
// Layout: one open-addressing map from identity to its holders. Most identities have a
// single holder, stored in the map's value itself; shared ones point to a holder list,
// recycled when the identity drops back to one holder.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "models/kvcache/flat_index.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

class PrefixDirectory {
 public:
  explicit PrefixDirectory(std::uint32_t holders, std::size_t expected_blocks = 16);

  std::uint32_t holders() const { return holders_; }
  // Distinct identities held by at least one holder.
  std::size_t size() const { return index_.size(); }

  // Hints that id is about to be added, removed or looked up: its index line is fetched
  // ahead (the directory is one of the largest tables of a cluster run).
  void prefetch(workload::BlockId id) const { index_.prefetch(id); }
  // holder now has id cached. A holder reports an identity at most once until it drops it.
  void add(workload::BlockId id, std::uint32_t holder);
  // holder dropped id (which it had added).
  void remove(workload::BlockId id, std::uint32_t holder);
  // Holders of id, in no particular order (scratch is used when it has a single holder).
  std::span<const std::uint32_t> holders_of(workload::BlockId id, std::uint32_t& scratch) const;

  // depth[h] = the number of leading blocks of ids, at most max_blocks, that holder h has
  // cached, for every holder (depth is resized to holders()): what each holder's
  // BlockManager::match_prefix would return.
  void match(std::span<const workload::BlockId> ids, std::uint32_t max_blocks,
             std::vector<std::uint32_t>& depth) const;
  // The same answer, sparse: (holder, depth) for every holder whose depth is at least 1, in
  // no particular order, into held (its old contents are dropped). Costs one probe per
  // matched block and a visit per holder of those blocks, nothing per other holder: what
  // a router over a thousand instances needs when a prefix lives on a few of them.
  void match_holders(std::span<const workload::BlockId> ids, std::uint32_t max_blocks,
                     std::vector<std::pair<std::uint32_t, std::uint32_t>>& held) const;

 private:
  // A map value with this bit set is an index into lists_; else it is the only holder.
  static constexpr std::uint32_t kShared = 0x8000'0000u;

  std::uint32_t holders_;
  FlatIndex<std::uint32_t> index_;
  std::vector<std::vector<std::uint32_t>> lists_;  // holders of shared identities
  std::vector<std::uint32_t> free_lists_;          // indices into lists_ no identity uses
  // Scratch of match_holders: [holder] its entry in held plus one, 0 when not there (all 0
  // between calls).
  mutable std::vector<std::uint32_t> entry_of_;
  // Scratch of match: the sparse answer it spreads out (kept for its capacity, one
  // allocation per directory instead of one per lookup).
  mutable std::vector<std::pair<std::uint32_t, std::uint32_t>> held_;
};

}  // namespace kvsim::kvcache
