// Eviction policies for KV block caches: one interface for every tier of the timed
// simulator and for the timing-free replay (`kvsim cache`, models/kvcache/cache_replay.hpp),
// so each policy exists once. Policies never see SimGrid; they read plain per-block
// metadata owned by the cache and answer "which block goes next".
//
// Ownership and protocol (the owner is the cache: a tier of the simulator or the replay):
//   * The owner keeps blocks in dense slots (uint32) and one BlockMeta per slot in
//     CacheState::blocks. When it grows that array it calls resize(n) before using any new
//     slot; policies keep their own per-slot state in arrays indexed by slot, so nothing is
//     allocated per block.
//   * Candidates are the resident, unpinned blocks. insert(s): s became a candidate (a new
//     block, or a block coming back from a pin: then meta.accesses > 1). touch(s): a
//     candidate was hit. erase(s): s stops being a candidate (dropped by the owner, or
//     pinned; pinned blocks are simply not candidates). victim(): picks a candidate, removes
//     it from the candidates and returns it; the owner then drops the block. victim() is
//     only called when there is at least one candidate.
//   * The owner updates the metadata of s *before* insert(s)/touch(s): last_access = now,
//     accesses + 1, category = the toucher's; previous_access and previous_category keep
//     the values they replace (policies that learn reuse times need them). CacheState::now
//     is the owner's clock when it calls the policy.
//   * A request touches its blocks from tail to head, so that under equal times the head of
//     a prefix (shared by more requests) is the most recently used.
#pragma once

#include "sim/util/params.hpp"
#include "sim/util/registry.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/request.hpp"

namespace kvsim::kvcache::eviction {

using Slot = std::uint32_t;
inline constexpr Slot kNoSlot = ~Slot{0};
inline constexpr double kNever = std::numeric_limits<double>::infinity();

struct BlockMeta {
  workload::BlockId id = 0;
  double first_access = 0;     // s: when the block became resident
  double last_access = 0;      // s: latest touch (or insertion)
  double previous_access = 0;  // s: last_access before the latest touch (= first_access when new)
  double next_use = kNever;    // opt only: order key of the block's next use (kNever = never)
  std::uint32_t position = 0;  // index of the block in its prefix (0 = head)
  std::uint32_t tokens = 0;    // tokens held (the last block of a prompt may be partial)
  std::uint32_t accesses = 0;  // touches since the block became resident (1 when new)
  std::uint16_t category = 0;           // category index of the request that last touched it
  std::uint16_t previous_category = 0;  // category before the latest touch

  // The owner's side of the protocol below, so every cache records uses the same way:
  // the block becomes resident (first use), and a later use by a request of by_category.
  void begin(workload::BlockId block, std::uint32_t at_position, std::uint16_t by_category, double now) {
    *this = {};
    id = block;
    position = at_position;
    category = previous_category = by_category;
    first_access = last_access = previous_access = now;
    accesses = 1;
  }
  void use(std::uint16_t by_category, double now) {
    previous_access = last_access;
    previous_category = category;
    last_access = now;
    category = by_category;
    ++accesses;
  }
};

// What the owner shares with its policy (read-only for the policy).
struct CacheState {
  std::vector<BlockMeta> blocks;            // indexed by slot
  double now = 0;                           // s
  std::vector<std::string> category_names;  // names of category indices ("text_1", ...)
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual void resize(Slot slots) = 0;
  virtual void insert(Slot s) = 0;
  virtual void touch(Slot s) = 0;
  virtual void erase(Slot s) = 0;
  virtual Slot victim() = 0;
  // A slot likely to be the victim ahead victims from now (0: the next one), or kNoSlot
  // when the policy cannot tell cheaply. A hint only, which must change nothing: owners
  // prefetch what evicting that block will read (its metadata and index entries), since in
  // a large cache each of those is a cache miss.
  virtual Slot upcoming_victim(std::size_t ahead) const {
    (void)ahead;
    return kNoSlot;
  }
  // Whether decisions read CacheState::blocks. An owner that keeps the metadata only for
  // its policy (the cache replay) skips it otherwise: one random cache line less per access.
  virtual bool reads_block_metadata() const { return true; }
};

struct WaProfile;  // wa_profile.hpp

// Numeric parameters resolved against the policy's ParamSpec list (defaults filled in).
struct PolicyParams : kvsim::Params {
  std::shared_ptr<const WaProfile> profile;  // policies with needs_profile
};

using kvsim::ParamSpec;

struct PolicyInfo {
  std::string_view name;
  std::string_view help;
  std::vector<ParamSpec> params;
  // Needs CacheState::blocks[s].next_use (Belady): only valid when the whole workload is
  // known in advance; the simulator refuses it for generated or closed-loop workloads.
  bool needs_future = false;
  bool needs_profile = false;  // needs PolicyParams::profile
  std::unique_ptr<Policy> (*make)(const CacheState& state, const PolicyParams& params);
};

const Registry<PolicyInfo>& policies();
std::vector<std::string> policy_names();
// The registered policy, or an InputError listing the valid names.
const PolicyInfo& find_policy(std::string_view name);
// Resolves overrides ("name" -> value) against info's parameters (unknown one: InputError).
PolicyParams resolve_params(const PolicyInfo& info, const std::map<std::string, double, std::less<>>& overrides,
                            std::shared_ptr<const WaProfile> profile = nullptr);
// find_policy + make with params from resolve_params; a policy that needs a profile and has
// none is an InputError.
std::unique_ptr<Policy> make_policy(std::string_view name, const CacheState& state, const PolicyParams& params);

}  // namespace kvsim::kvcache::eviction
