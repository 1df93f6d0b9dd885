// Golden hit counts of every eviction policy on two checked-in traces, the way libCacheSim
// pins its algorithms. The expected values (tests/golden/eviction_hits.csv) come from the
// separate Python reference replay tools/eviction_reference.py, written from the papers and
// the documented adaptations, never from kvsim's output. After a deliberate change of a
// policy's definition, change the reference too and re-baseline with
// `tools/eviction_reference.py table --write`.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "models/kvcache/cache_replay.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "workloads/readers/trace.hpp"

using namespace kvsim;
using namespace kvsim::kvcache;
using namespace kvsim::kvcache::eviction;

namespace {

std::string golden(const std::string& name) { return std::string(KVSIM_SOURCE_DIR) + "/tests/golden/" + name; }

ReplayTrace load(const std::string& name) {
  workload::TraceOptions options;
  options.format = "mooncake";
  options.block_size = 512;  // the trace's own block size: identities are used as they are
  auto source = workload::open_trace(golden(name), options);
  ReplayTrace trace = load_replay_trace(*source, 512);
  compute_next_use(trace);
  return trace;
}

struct Expected {
  std::string trace, policy;
  std::uint64_t capacity = 0, hit_blocks = 0, hit_tokens = 0;
};

std::vector<Expected> table() {
  std::ifstream in(golden("eviction_hits.csv"));
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "trace,policy,capacity_blocks,hit_blocks,hit_tokens");
  std::vector<Expected> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream cells(line);
    Expected e;
    std::string capacity, blocks, tokens;
    std::getline(cells, e.trace, ',');
    std::getline(cells, e.policy, ',');
    std::getline(cells, capacity, ',');
    std::getline(cells, blocks, ',');
    std::getline(cells, tokens, ',');
    e.capacity = std::stoull(capacity);
    e.hit_blocks = std::stoull(blocks);
    e.hit_tokens = std::stoull(tokens);
    rows.push_back(e);
  }
  return rows;
}

void check_trace(const std::string& name, const std::string& file) {
  const ReplayTrace trace = load(file);
  std::map<std::string, int> per_policy;
  for (const auto& e : table()) {
    if (e.trace != name) continue;
    CAPTURE(e.policy);
    CAPTURE(e.capacity);
    const ReplayResult r = replay(trace, e.policy, resolve_params(find_policy(e.policy), {}), e.capacity);
    CHECK(r.hit_blocks == e.hit_blocks);
    CHECK(r.hit_tokens == e.hit_tokens);
    ++per_policy[e.policy];
  }
  // Every policy of the issue is pinned at several capacities.
  for (const char* p : {"lru", "fifo", "sieve", "s3fifo", "arc", "lfu", "gdsf", "opt"}) {
    CAPTURE(p);
    CHECK(per_policy[p] >= 3);
  }
}

}  // namespace

TEST_CASE("golden eviction tables: one-block requests") {
  const ReplayTrace trace = load("eviction_plain.jsonl");
  REQUIRE(trace.requests.size() == 3000);
  REQUIRE(trace.accesses() == 3000);
  check_trace("plain", "eviction_plain.jsonl");
}

TEST_CASE("golden eviction tables: prefix requests") {
  const ReplayTrace trace = load("eviction_prefix.jsonl");
  REQUIRE(trace.requests.size() == 600);
  check_trace("prefix", "eviction_prefix.jsonl");
}
