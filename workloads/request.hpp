// The canonical request every workload source (trace reader or generator) produces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/util/random.hpp"

namespace kvsim::workload {

// Identity of one KV block: a hash chained over the whole prefix up to and including the
// block, so two equal identities mean two equal prefixes.
using BlockId = std::uint64_t;

struct Request {
  std::uint64_t id = 0;       // unique, assigned by the source in arrival order
  std::uint64_t session = 0;  // conversation (or client) the request belongs to
  std::int64_t parent = -1;   // id of the previous turn of the session, -1 for a first turn
  std::uint32_t turn = 1;     // 1 for the first turn of a session
  std::uint16_t category = 0; // index into the source's category names ("chat", "api", ...)
  std::uint8_t priority = 0;  // service class: 0 = online; larger = lower priority (offline batch)
  double arrival = 0.0;       // seconds since the start of the run
  // Closed-loop replay: seconds between the parent's completion and this request when the
  // source knows it (generated sessions); negative = unknown (traces), derived from the gap
  // between the parent's and this request's arrivals (see sim/engine/simulation.hpp).
  double think_time = -1.0;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  // One identity per block of the input, ceil(input_tokens / block_size) of them; the last
  // one may cover a partial block (engines cache only full blocks). Empty means "every
  // block of this request is unique" (traces without hashes), which saves the memory.
  std::vector<BlockId> blocks;
};

// Chains a content hash onto a prefix identity, stable across platforms and runs.
// chain_block(0, h) starts a prefix. The prefix is mixed fully before the content joins it
// (a near-linear combination made chain_block(28,16) == chain_block(27,80)), so distinct
// (prefix, content) pairs collide only by 64-bit chance.
constexpr BlockId chain_block(BlockId prefix, std::uint64_t content) {
  return mix64(mix64(prefix + 0x9e3779b97f4a7c15ULL) ^ content);
}

// A stream of requests in non-decreasing arrival order.
class Source {
 public:
  virtual ~Source() = default;
  // Next request, or nullopt at the end of the stream.
  virtual std::optional<Request> next() = 0;
  // The same stream as next(), written into `into` (every field replaced); false at the end.
  // A consumer that passes the same Request each time lets a source reuse its block
  // storage (no allocation per request where the source supports it).
  virtual bool next_into(Request& into) {
    std::optional<Request> r = next();
    if (!r) return false;
    into = std::move(*r);
    return true;
  }
  // Number of requests the source will produce when known in advance (0 if unknown);
  // used for progress reporting only.
  virtual std::uint64_t expected_count() const { return 0; }
  // How far through its workload the source is, in [0, 1], when it can tell without
  // expected_count(): a generator bounded by a duration at simulated time now, a trace by
  // the share of its file read. Negative when unknown. Progress display only.
  virtual double progress(double /*now*/) const { return -1.0; }
  // Category names indexed by Request::category.
  virtual const std::vector<std::string>& categories() const = 0;
  // What the source dropped or repaired so far (malformed lines skipped on request, failed
  // requests in a trace, ...), as (name, count) pairs for the summary and the results file.
  virtual std::vector<std::pair<std::string, std::uint64_t>> report() const { return {}; }
};

}  // namespace kvsim::workload
