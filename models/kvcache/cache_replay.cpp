// Timing-free cache replay (see cache_replay.hpp). The loop is the benchmark target of
// tools/bench_cache.sh, so the per-block path is kept to one hash probe, one metadata
// write and one policy call: a request's slots are looked up once, head to tail, and the
// result reused for the tail-to-head touches.
#include "models/kvcache/cache_replay.hpp"

#include <algorithm>
#include <ctime>
#include <numeric>
#include <stdexcept>

#include "models/kvcache/flat_index.hpp"
#include "models/kvcache/recency_replay.hpp"
#include "models/kvcache/replay_engine.hpp"
#include "sim/util/error.hpp"
#include "sim/util/random.hpp"
#include "workloads/category.hpp"

namespace kvsim::kvcache {

using eviction::BlockMeta;
using eviction::Slot;

std::uint16_t category_index(std::uint16_t type, std::uint32_t turn) {
  const std::uint32_t t = std::clamp<std::uint32_t>(turn, 1, workload::kTurnCap);
  return static_cast<std::uint16_t>(type * workload::kTurnCap + (t - 1));
}

std::vector<std::string> category_names(const std::vector<std::string>& types) {
  std::vector<std::string> names;
  for (const auto& type : types)
    for (std::uint32_t turn = 1; turn <= workload::kTurnCap; ++turn) names.push_back(workload::category_name(type, turn));
  return names;
}

namespace {

// Category names of trace.categories from the source's type names: types without a name
// (a source that breaks its contract) get "type<t>".
void name_categories(ReplayTrace& trace, const std::vector<std::string>& source_types, std::uint16_t types) {
  std::vector<std::string> type_names = source_types;
  for (std::size_t t = type_names.size(); t < types; ++t) type_names.push_back("type" + std::to_string(t));
  trace.categories = category_names(type_names);
}

}  // namespace

ReplayTrace load_replay_trace(workload::Source& source, std::uint32_t block_size, double until,
                              const std::string& source_name, const std::function<void(const ReplayTrace&)>& loaded,
                              LoadKeeps keeps) {
  if (block_size == 0) throw std::invalid_argument("load_replay_trace: block size 0");
  ReplayTrace trace;
  trace.block_size = block_size;
  const bool drop = keeps == LoadKeeps::unreplayed;
  if (drop && !loaded) throw std::invalid_argument("load_replay_trace: keeping only unreplayed requests needs `loaded`");
  // Hands the requests loaded so far to `loaded`, then lets go of them when dropping.
  const auto hand_over = [&] {
    loaded(trace);
    if (!drop) return;
    trace.dropped_requests += trace.requests.size();
    trace.dropped_blocks += trace.blocks.size();
    trace.requests.clear();
    trace.blocks.clear();
  };
  // Identities for requests without any: a salted counter through the splitmix64 mixer,
  // which is a bijection, so they never repeat (a clash with a real chained identity has
  // probability ~2^-64 per pair).
  std::uint64_t anonymous = 0;
  constexpr std::uint64_t kAnonymousSalt = 0x6b76'7369'6d2d'616eULL;
  bool sorted = true;
  double last_arrival = -eviction::kNever;
  std::uint16_t types = 1;  // category types seen (names for at least one)
  // One request refilled in place (Source::next_into): a trace source then reuses its block
  // storage instead of allocating a vector per request.
  workload::Request r;
  while (source.next_into(r)) {
    if (r.arrival > until) break;
    ReplayTrace::Request req;
    req.first = trace.blocks.size();
    req.arrival = r.arrival;
    req.category = category_index(r.category, r.turn);
    const std::uint64_t needed = (std::uint64_t(r.input_tokens) + block_size - 1) / block_size;
    // Every block of a request is resident at once during its replay, so one request
    // bounds the memory of the cache (and of its identities when it has none of its own).
    if (needed > kMaxRequestBlocks)
      throw InputError(source_name, 0, "input_tokens",
                       "request " + std::to_string(r.id) + " has " + std::to_string(r.input_tokens) +
                           " input tokens = " + std::to_string(needed) + " blocks of " + std::to_string(block_size) +
                           " tokens; the replay takes requests of at most " + std::to_string(kMaxRequestBlocks) +
                           " blocks (raise --block-size, or drop the request)");
    if (r.blocks.empty()) {
      for (std::uint64_t j = 0; j < needed; ++j) trace.blocks.push_back(mix64(kAnonymousSalt + anonymous++));
    } else {
      trace.blocks.insert(trace.blocks.end(), r.blocks.begin(), r.blocks.end());
    }
    req.count = static_cast<std::uint32_t>(trace.blocks.size() - req.first);
    const std::uint64_t before_last = std::uint64_t(block_size) * (req.count ? req.count - 1 : 0);
    req.last_tokens = r.input_tokens > before_last && r.input_tokens - before_last <= block_size
                          ? static_cast<std::uint32_t>(r.input_tokens - before_last)
                          : block_size;
    if (req.arrival < last_arrival) {
      if (drop)
        throw std::logic_error("load_replay_trace: " + source_name +
                               " is not in arrival order, which a load keeping only unreplayed requests cannot sort");
      sorted = false;
    }
    last_arrival = req.arrival;
    types = std::max<std::uint16_t>(types, std::uint16_t(req.category / workload::kTurnCap + 1));
    trace.requests.push_back(req);
    if (loaded) {
      if (req.category >= trace.categories.size())
        name_categories(trace, source.categories(), std::uint16_t(req.category / workload::kTurnCap + 1));
      if (trace.request_count() % kLoadedEvery == 0) hand_over();
    }
  }
  if (loaded && trace.request_count() % kLoadedEvery != 0) hand_over();
  if (!sorted)
    std::stable_sort(trace.requests.begin(), trace.requests.end(),
                     [](const auto& a, const auto& b) { return a.arrival < b.arrival; });
  name_categories(trace, source.categories(), types);
  return trace;
}

void compute_next_use(ReplayTrace& trace) {
  trace.next_use.assign(trace.blocks.size(), eviction::kNever);
  FlatIndex<std::uint64_t> next(1024);
  // Walk the accesses backwards in replay order (requests by arrival, blocks head to tail).
  for (auto r = trace.requests.rbegin(); r != trace.requests.rend(); ++r)
    for (std::uint64_t k = r->first + r->count; k-- > r->first;) {
      const workload::BlockId id = trace.blocks[k];
      if (const std::uint64_t* later = next.find(id)) trace.next_use[k] = double(*later);
      next.put(id, k);
    }
}

namespace {

// The generic replay cache: dense slots, a free-slot stack and the identity index, with
// any policy deciding the evictions.
class ReplayCache final : public ReplayEngine {
 public:
  ReplayCache(const std::string& policy, const eviction::PolicyParams& params, const std::vector<std::string>& names,
              std::uint64_t capacity)
      // Twice the capacity, like the recency replay (recency_replay.cpp): shorter probes.
      : capacity_(capacity), index_(2 * std::min<std::uint64_t>(capacity, 1u << 20)) {
    state_.category_names = names;
    policy_ = eviction::make_policy(policy, state_, params);
    metadata_ = policy_->reads_block_metadata();
  }

  std::uint64_t evictions() const override { return evictions_; }

  void run_request(const ReplayTrace& trace, const ReplayTrace::Request& req, ReplayResult& result) override {
    // A streamed trace names its categories as they appear (wa resolves names lazily).
    if (state_.category_names.size() < trace.categories.size()) state_.category_names = trace.categories;
    const bool future = !trace.next_use.empty();
    const double now = req.arrival;
    state_.now = now;
    const workload::BlockId* ids = trace.blocks.data() + req.first;
    count_request(trace, req, find_resident(index_, ids, req.count, slots_), result);

    for (std::uint32_t j = req.count; j-- > 0;) {
      const double next_use = future ? trace.next_use[req.first + j] : eviction::kNever;
      Slot s = slots_[j];
      if (s != eviction::kNoSlot) {
        if (metadata_) {
          BlockMeta& b = state_.blocks[s];
          b.use(req.category, now);
          b.next_use = next_use;
        }
        policy_->touch(s);
        continue;
      }
      s = allocate();
      if (const auto [held, inserted] = index_.emplace(ids[j], s); !inserted) {
        // The request names this identity twice (only a broken trace does): the second
        // occurrence is a touch of the block the first one made resident.
        free_.push_back(s);
        slots_[j] = *held;
        ++j;  // the loop condition steps back to this block, now resident
        continue;
      }
      if (metadata_) {
        BlockMeta& b = state_.blocks[s];
        b.begin(ids[j], j, req.category, now);
        b.next_use = next_use;
        b.tokens = j + 1 == req.count ? req.last_tokens : trace.block_size;
      }
      ids_[s] = ids[j];
      ++occupancy_;
      policy_->insert(s);
    }
    // The victims are chosen first and removed after: the policy does not look at the
    // index, and the removals' random reads (identity, then its index line) are then
    // independent of each other, so they overlap instead of waiting one by one.
    victims_.clear();
    while (occupancy_ - victims_.size() > capacity_) victims_.push_back(policy_->victim());
    for (const Slot v : victims_)
      if (v < ids_.size()) __builtin_prefetch(&ids_[v]);
    for (const Slot v : victims_)
      if (v < ids_.size()) index_.prefetch(ids_[v]);
    for (const Slot v : victims_) {
      // A resident slot is the one its identity maps to (a free slot's stale identity is
      // absent or maps elsewhere): the check and the removal are one probe.
      if (v >= ids_.size() || !index_.erase(ids_[v], v))
        throw std::logic_error("eviction policy returned a block that is not a resident candidate");
      free_.push_back(v);
      --occupancy_;
      ++evictions_;
    }
    result.peak_resident = std::max(result.peak_resident, occupancy_);
  }

 private:
  Slot allocate() {
    if (!free_.empty()) {
      const Slot s = free_.back();
      free_.pop_back();
      return s;
    }
    const auto s = static_cast<Slot>(ids_.size());
    if (s == eviction::kNoSlot) throw std::length_error("cache replay: more than 2^32 - 1 resident blocks");
    // Grow geometrically and tell the policy before the new slots are used.
    const std::size_t grown = std::max<std::size_t>(64, ids_.size() * 2);
    if (metadata_) state_.blocks.resize(grown);
    ids_.resize(grown, 0);
    policy_->resize(static_cast<Slot>(std::min<std::size_t>(grown, eviction::kNoSlot)));
    for (std::size_t k = grown; k-- > std::size_t(s) + 1;) free_.push_back(static_cast<Slot>(k));
    return s;
  }

  eviction::CacheState state_;
  std::unique_ptr<eviction::Policy> policy_;
  std::uint64_t capacity_;
  FlatIndex<Slot> index_;
  std::vector<Slot> free_;
  // Identities by slot, apart from the metadata: eviction needs only these, and a dense
  // 8-byte array stays in cache where the 56-byte metadata does not (it was the replay's
  // top cache miss at a 1M-token capacity).
  std::vector<workload::BlockId> ids_;
  std::vector<Slot> slots_;  // per block of the current request: resident slot or kNoSlot
  std::vector<Slot> victims_;  // of the current request's evictions
  std::uint64_t occupancy_ = 0;
  std::uint64_t evictions_ = 0;
  bool metadata_ = true;  // the policy reads state_.blocks (else they are not kept)
};

std::unique_ptr<ReplayEngine> make_replay_engine(const std::string& policy, const eviction::PolicyParams& params,
                                                 const std::vector<std::string>& names, std::uint64_t capacity,
                                                 ReplayPath path) {
  // lru and fifo have no parameters, so their fast replay needs only the name.
  if (path == ReplayPath::fastest && (policy == "lru" || policy == "fifo"))
    return make_recency_replay(policy == "lru", capacity);
  return std::make_unique<ReplayCache>(policy, params, names, capacity);
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

ReplayResult replay(const ReplayTrace& trace, const std::string& policy, const eviction::PolicyParams& params,
                    std::uint64_t capacity_blocks, ReplayPath path) {
  if (capacity_blocks == 0) throw std::invalid_argument("cache replay: capacity must be at least one block");
  const auto& info = eviction::find_policy(policy);
  if (info.needs_future && trace.next_use.size() != trace.blocks.size())
    throw std::logic_error("cache replay: policy " + policy + " needs compute_next_use first");
  ReplayResult result;
  result.policy = policy;
  result.capacity_blocks = capacity_blocks;
  result.requests = trace.requests.size();
  // CPU time of this thread: the figure a benchmark wants on a shared machine.
  const double start = thread_cpu_seconds();
  const auto cache = make_replay_engine(policy, params, trace.categories, capacity_blocks, path);
  for (const auto& req : trace.requests) cache->run_request(trace, req, result);
  result.evictions = cache->evictions();
  result.seconds = thread_cpu_seconds() - start;
  return result;
}

class StreamingReplay::Cache {
 public:
  std::unique_ptr<ReplayEngine> engine;
};

StreamingReplay::StreamingReplay(const std::string& policy, const eviction::PolicyParams& params,
                                 std::uint64_t capacity_blocks) {
  if (capacity_blocks == 0) throw std::invalid_argument("cache replay: capacity must be at least one block");
  if (eviction::find_policy(policy).needs_future)
    throw std::logic_error("cache replay: policy " + policy + " needs the whole trace; it cannot be streamed");
  result_.policy = policy;
  result_.capacity_blocks = capacity_blocks;
  cache_ = std::make_unique<Cache>();
  cache_->engine = make_replay_engine(policy, params, {}, capacity_blocks, ReplayPath::fastest);
}

StreamingReplay::~StreamingReplay() = default;

void StreamingReplay::add(const ReplayTrace& trace) {
  if (!in_order_) return;
  const double start = thread_cpu_seconds();
  for (; next_ < trace.request_count(); ++next_) {
    const auto& req = trace.requests[next_ - trace.dropped_requests];
    if (req.arrival < last_arrival_) {
      in_order_ = false;
      break;
    }
    last_arrival_ = req.arrival;
    cache_->engine->run_request(trace, req, result_);
    ++result_.requests;
  }
  result_.seconds += thread_cpu_seconds() - start;
}

ReplayResult StreamingReplay::finish() {
  result_.evictions = cache_->engine->evictions();
  return result_;
}

}  // namespace kvsim::kvcache
