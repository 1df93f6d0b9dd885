// Timing-free replay of a request trace through one KV block cache (`kvsim cache`): what
// hit ratio would each eviction policy give at each capacity, with no engine, no batching
// and no transfer times. The policies are the same objects the timed tiers use
// (eviction/policy.hpp).
//
// Semantics, per request in arrival order (ties in file order):
//   1. it hits the longest prefix of its blocks that is resident;
//   2. all its blocks are made resident and touched from tail to head (the head most
//      recently used);
//   3. blocks are evicted until occupancy <= capacity (the request's own blocks included:
//      nothing is pinned, so a request larger than the cache keeps only what fits).
// A request without block identities (a trace without hashes) is all misses; its
// ceil(input_tokens / block_size) blocks get unique identities and still occupy capacity.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/kvcache/eviction/policy.hpp"
#include "workloads/request.hpp"

namespace kvsim::kvcache {

// A trace loaded once for many replays: block identities of all requests back to back.
struct ReplayTrace {
  struct Request {
    std::uint64_t first = 0;     // index of its first block in blocks
    std::uint32_t count = 0;     // blocks
    std::uint32_t last_tokens = 0;  // tokens of the last block (others hold block_size)
    double arrival = 0;          // s
    std::uint16_t category = 0;  // index into categories
  };
  std::uint32_t block_size = 16;
  std::vector<workload::BlockId> blocks;
  std::vector<Request> requests;
  std::vector<std::string> categories;  // type x turn names ("chat_1", ..., "chat_5+")
  // Order key of the next access of the same identity (the index of that access in
  // blocks), kNever when none; filled by compute_next_use (policy opt).
  std::vector<double> next_use;
  // Requests and blocks a streamed load already handed over and let go of
  // (LoadKeeps::unreplayed): requests and blocks then hold only those loaded since.
  std::uint64_t dropped_requests = 0, dropped_blocks = 0;

  std::uint64_t accesses() const { return dropped_blocks + blocks.size(); }
  std::uint64_t request_count() const { return dropped_requests + requests.size(); }
};

// Dense index of a request's category: (type, turn) with turns from workload::kTurnCap on
// sharing one category; names follow workload::category_name.
std::uint16_t category_index(std::uint16_t type, std::uint32_t turn);
std::vector<std::string> category_names(const std::vector<std::string>& types);

// The most blocks one request may have (2^22: 67M tokens at 16-token blocks, far beyond
// any model's context); a larger one is an InputError naming source_name.
inline constexpr std::uint64_t kMaxRequestBlocks = std::uint64_t{1} << 22;

// Requests between two calls of load_replay_trace's `loaded`: a streamed replay times each
// call (a system call for the thread's CPU clock), which per request cost ~5 % of the loop.
inline constexpr std::size_t kLoadedEvery = 64;

// What load_replay_trace keeps once `loaded` has seen the requests: all of them (the trace
// can be replayed again), or only those not handed over yet, when a StreamingReplay is the
// trace's only replay. A whole trace of millions of blocks then never sits in memory: the
// ids stay in a buffer of kLoadedEvery requests, hot in cache, instead of an array that
// grows by page faults and copies (a fifth of `kvsim cache`'s consumer thread on the bench
// trace of tools/bench_cache_e2e.sh). Counts stay whole (accesses(), request_count()).
enum class LoadKeeps { whole_trace, unreplayed };

// Reads every request of source (at most until `until` s of arrival time, inclusive).
// Requests are ordered by arrival, ties in source order. loaded, when given, is called every
// kLoadedEvery requests and after the last one (before any sorting: trace.requests are in
// source order then, categories named so far), so a replay can run while the source is
// still being read (StreamingReplay). With LoadKeeps::unreplayed, loaded is required and
// a source out of arrival order is a std::logic_error (it cannot be sorted then; trace
// files and generators are in order by contract).
ReplayTrace load_replay_trace(workload::Source& source, std::uint32_t block_size,
                              double until = eviction::kNever, const std::string& source_name = "trace",
                              const std::function<void(const ReplayTrace&)>& loaded = {},
                              LoadKeeps keeps = LoadKeeps::whole_trace);
void compute_next_use(ReplayTrace& trace);

struct ReplayResult {
  std::string policy;
  std::uint64_t capacity_blocks = 0;
  std::uint64_t requests = 0;
  std::uint64_t requested_blocks = 0, hit_blocks = 0;
  std::uint64_t requested_tokens = 0, hit_tokens = 0;
  std::uint64_t evictions = 0;
  std::uint64_t peak_resident = 0;  // most blocks resident after any request's evictions
  double seconds = 0;  // CPU time of the replay (benchmarks only; not deterministic)

  double block_hit_ratio() const { return requested_blocks ? double(hit_blocks) / double(requested_blocks) : 0; }
  double token_hit_ratio() const { return requested_tokens ? double(hit_tokens) / double(requested_tokens) : 0; }
};

// Which cache replays: the fastest for the policy (lru and fifo have one of their own,
// recency_replay.hpp), or the generic one driving the policy object (tests compare them).
enum class ReplayPath { fastest, generic };

// Replays trace through a cache of capacity_blocks (>= 1) blocks evicting with policy
// (compute_next_use first when it needs the future). Throws std::logic_error if the
// policy returns a block that is not a resident candidate.
ReplayResult replay(const ReplayTrace& trace, const std::string& policy, const eviction::PolicyParams& params,
                    std::uint64_t capacity_blocks, ReplayPath path = ReplayPath::fastest);

// The same replay fed one request at a time while the trace loads (load_replay_trace's
// `loaded`), so that replaying overlaps reading: requests must come in arrival order
// (in_order() turns false otherwise, and the result must then be discarded) and the policy
// must not need the future. finish() gives what replay() would on the loaded trace.
class StreamingReplay {
 public:
  StreamingReplay(const std::string& policy, const eviction::PolicyParams& params, std::uint64_t capacity_blocks);
  ~StreamingReplay();
  // Replays the requests appended since the last call (also after a load dropped those).
  void add(const ReplayTrace& trace);
  bool in_order() const { return in_order_; }
  ReplayResult finish();

 private:
  class Cache;
  std::unique_ptr<Cache> cache_;
  ReplayResult result_;
  double last_arrival_ = -eviction::kNever;
  std::uint64_t next_ = 0;  // first request of the whole trace not replayed yet
  bool in_order_ = true;
};

}  // namespace kvsim::kvcache
