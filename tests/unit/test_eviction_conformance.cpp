// Invariants every registered eviction policy must keep (models/kvcache/eviction/): each test
// iterates over policy_names(), so a new policy is checked the moment it is registered.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "models/kvcache/cache_replay.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/eviction/wa_profile.hpp"
#include "sim/util/error.hpp"
#include "sim/util/random.hpp"
#include "workloads/synth/chat.hpp"
#include "workloads/vector_source.hpp"

using namespace kvsim;
using namespace kvsim::kvcache;
using namespace kvsim::kvcache::eviction;

namespace {

// A profile with a model for the chat categories, so wa exercises its priority path.
std::shared_ptr<const WaProfile> test_profile() {
  auto profile = std::make_shared<WaProfile>();
  profile->categories["chat_1"] = {0.05, 0.6, 100};
  profile->categories["chat_2"] = {0.02, 0.4, 100};
  profile->categories["chat_3"] = {0.5, 0.1, 100};
  return profile;
}

PolicyParams params_for(const std::string& name) {
  return resolve_params(find_policy(name), {}, test_profile());
}

// Drives a policy directly through random inserts, touches, pins (erase) and unpins
// (insert again), and evictions; returns the victims. Fails if a victim is not a candidate.
std::vector<Slot> random_drive(const std::string& name, std::uint64_t seed) {
  CacheState state;
  state.category_names = category_names({"chat"});
  constexpr Slot kSlots = 64;
  state.blocks.resize(kSlots);
  auto policy = make_policy(name, state, params_for(name));
  policy->resize(kSlots);
  Rng rng(seed);
  enum class Where { absent, candidate, pinned };
  std::vector<Where> where(kSlots, Where::absent);
  std::vector<Slot> victims;
  std::uint64_t next_id = 1;
  for (int step = 0; step < 4000; ++step) {
    state.now += rng.exponential(2.0);
    const Slot s = static_cast<Slot>(rng.uniform_int(kSlots));
    BlockMeta& b = state.blocks[s];
    const auto use = [&] {
      b.previous_access = b.last_access;
      b.previous_category = b.category;
      b.last_access = state.now;
      b.category = static_cast<std::uint16_t>(rng.uniform_int(3));
      b.next_use = state.now + rng.uniform(0, 100);
      ++b.accesses;
    };
    const std::uint64_t op = rng.uniform_int(10);
    if (where[s] == Where::absent) {
      b = BlockMeta{};
      b.id = next_id++;
      b.first_access = b.last_access = b.previous_access = state.now;
      b.position = static_cast<std::uint32_t>(rng.uniform_int(8));
      b.tokens = 16;
      b.accesses = 1;
      b.next_use = state.now + rng.uniform(0, 100);
      policy->insert(s);
      where[s] = Where::candidate;
    } else if (where[s] == Where::candidate && op < 4) {
      use();
      policy->touch(s);
    } else if (where[s] == Where::candidate && op < 6) {
      policy->erase(s);  // pinned
      where[s] = Where::pinned;
    } else if (where[s] == Where::pinned && op < 5) {
      use();  // the pinning request used it; unpinned now
      policy->insert(s);
      where[s] = Where::candidate;
    }
    const auto candidates = std::count(where.begin(), where.end(), Where::candidate);
    if (candidates > 40 || (candidates > 0 && op == 9)) {
      const Slot v = policy->victim();
      REQUIRE(v < kSlots);
      REQUIRE_MESSAGE(where[v] == Where::candidate, name << " evicted a pinned or non-resident block");
      where[v] = Where::absent;
      victims.push_back(v);
    }
  }
  return victims;
}

std::unique_ptr<workload::Source> chat_source(std::uint64_t seed, std::uint64_t requests) {
  workload::ChatParams p;
  p.num_requests = requests;
  p.rate = 4;
  p.think_time = 20;
  p.system_prompts = 8;
  p.system_prompt_tokens = 300;
  p.message_tokens = 60;
  p.output_tokens = 60;
  return std::make_unique<workload::ChatGenerator>(p, Rng::stream(seed, "workload"), 16);
}

ReplayTrace chat_trace(std::uint64_t seed, std::uint64_t requests) {
  auto source = chat_source(seed, requests);
  ReplayTrace trace = load_replay_trace(*source, 16);
  compute_next_use(trace);
  return trace;
}

// Hits of an infinite cache: a block is a hit when its identity was requested before
// (chained identities make "seen before" prefix-closed within a request).
std::uint64_t ideal_hits(const ReplayTrace& trace) {
  std::set<workload::BlockId> seen;
  std::uint64_t hits = 0;
  for (const auto& r : trace.requests) {
    std::uint32_t j = 0;
    while (j < r.count && seen.contains(trace.blocks[r.first + j])) ++j;
    hits += j;
    for (std::uint32_t k = 0; k < r.count; ++k) seen.insert(trace.blocks[r.first + k]);
  }
  return hits;
}

}  // namespace

TEST_CASE("eviction conformance: every policy evicts only unpinned resident blocks, deterministically") {
  for (const auto& name : policy_names()) {
    CAPTURE(name);
    const auto first = random_drive(name, 11);
    CHECK(first.size() > 100);
    CHECK(random_drive(name, 11) == first);
  }
}

TEST_CASE("eviction conformance: replays never exceed capacity and are deterministic") {
  const ReplayTrace trace = chat_trace(3, 600);
  for (const auto& name : policy_names()) {
    for (std::uint64_t capacity : {1u, 7u, 120u, 900u}) {
      CAPTURE(name);
      CAPTURE(capacity);
      const ReplayResult a = replay(trace, name, params_for(name), capacity);
      const ReplayResult b = replay(trace, name, params_for(name), capacity);
      CHECK(a.peak_resident <= capacity);
      CHECK(a.requested_blocks == trace.accesses());
      CHECK(a.hit_blocks <= a.requested_blocks);
      CHECK(a.hit_tokens <= a.requested_tokens);
      CHECK(a.hit_blocks == b.hit_blocks);
      CHECK(a.hit_tokens == b.hit_tokens);
      CHECK(a.evictions == b.evictions);
      CHECK(a.evictions > 0);
    }
  }
}

TEST_CASE("eviction conformance: capacity 1 survives and hits at most one block per request") {
  // One resident block: a request can hit only its head, so at most one hit per request;
  // every block that became resident but the last one was evicted.
  const ReplayTrace trace = chat_trace(5, 300);
  for (const auto& name : policy_names()) {
    CAPTURE(name);
    const ReplayResult r = replay(trace, name, params_for(name), 1);
    CHECK(r.hit_blocks <= trace.requests.size());
    CHECK(r.peak_resident == 1);
    CHECK(r.evictions <= r.requested_blocks - r.hit_blocks - 1);
    CHECK(r.evictions + trace.requests.size() + 1 >= r.requested_blocks - r.hit_blocks);
  }
}

TEST_CASE("eviction conformance: a cache larger than the working set reaches the ideal hit ratio") {
  const ReplayTrace trace = chat_trace(7, 500);
  const std::uint64_t ideal = ideal_hits(trace);
  REQUIRE(ideal > trace.accesses() / 4);  // the trace does reuse
  std::set<workload::BlockId> distinct(trace.blocks.begin(), trace.blocks.end());
  for (const auto& name : policy_names()) {
    CAPTURE(name);
    const ReplayResult r = replay(trace, name, params_for(name), distinct.size());
    CHECK(r.hit_blocks == ideal);
    CHECK(r.evictions == 0);
  }
}

TEST_CASE("eviction conformance: unknown policy names and parameters are input errors") {
  CHECK_THROWS_WITH_AS(find_policy("lruu"), doctest::Contains("lru, fifo, lfu"), kvsim::InputError);
  CHECK_THROWS_AS(resolve_params(find_policy("lru"), {{"lookahead", 1.0}}), kvsim::InputError);
  CHECK(resolve_params(find_policy("wa"), {{"lookahead", 9.0}}).at("lookahead") == 9.0);
  CacheState state;
  CHECK_THROWS_WITH_AS(make_policy("wa", state, resolve_params(find_policy("wa"), {})),
                       doctest::Contains("profile"), kvsim::InputError);
  CHECK(find_policy("opt").needs_future);
  CHECK_FALSE(find_policy("lru").needs_future);
}
