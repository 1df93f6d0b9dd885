// Characterisation of a workload (`kvsim trace stats`): arrival process, length
// distributions, type and turn mix, and the KV-cache reuse analyses of the Alibaba Bailian
// trace study ("KVCache Cache in the Wild", ATC'25): ideal (infinite-cache) hit ratios, reuse
// skew, reuse intervals per request category with an exponential fit, and where hits come
// from (same or other session, single- or multi-turn requests).
//
// One streaming pass over the Source, then a pass over what it kept: every block reference
// goes to a ReusePartition (reuse_partition.hpp), which finds the request that accessed
// the block before it without one random probe per reference into a table of all blocks;
// the hits are then replayed in request order. Memory: 6 bytes per reference a small table
// of recent blocks answers at once (repeat hits on hot blocks), 14 per other reference
// (first accesses and reuses after displacement), 20 bytes per request (its arrival,
// session, category and block count, which the blocks it touched last point to) plus 8 for
// the token-length percentiles, and 16 bytes per run of hits one request finds on blocks
// last touched by the same earlier request (one or two runs per request typically: with
// chained identities the blocks an earlier request touched last form one stretch of the
// prefix). The references dominate.
//
// Definitions (prefix semantics; "ideal" = infinite cache; the block size is the one the
// source's identities were built for, StatsOptions::block_size):
//   * A request's blocks are its prefix identities as given; the last one may cover a
//     partial block and counts as a block. A block is a hit when its identity was accessed
//     before by any request. Requests with no identities have ceil(input / block_size)
//     blocks, all misses, each unique (they count in unique_blocks and never as reused).
//   * ideal_block_hit_ratio = hit blocks / requested blocks; ideal_token_hit_ratio =
//     Σ min(hit blocks × block_size, input tokens) / Σ input tokens.
//   * reused_block_fraction = unique blocks accessed at least twice / unique blocks.
//     topN_reuse_share: blocks ranked by reuses (accesses beyond the first); the share of
//     all reuses that the top ceil(N % × unique blocks) receive.
//   * Reuse interval of a hit = its arrival − the arrival of the block's previous access.
//     reuse_interval: every hit. A hit is attributed to the category (type × turn,
//     category.hpp) of the request that touched the block LAST, as the workload-aware
//     eviction policy's profile is keyed. Hits with interval < min_reuse ("same prompt":
//     a retried request, or the same prompt issued twice at once) are left out of the
//     per-category and per-type distributions and of p_reuse — they still count as hits
//     everywhere else. Per category: λ = 1 / (mean − min) of its intervals (the exponential
//     fit shifted to start at min) and p_reuse = its attributed hits / blocks requested by
//     requests of that category, so P(reuse within t of an access) ≈ p (1 − e^{−λ(t−min)}).
//   * Hit provenance: the share of hit blocks whose previous access came from the same
//     session (by session id; exact for ids below 2^32, which every reader and generator
//     assigns, otherwise compared on 32 folded bits) or another one; and the share found
//     by turn-1 ("single-turn") or turn >= 2 ("multi-turn") requests.
//   * Percentiles: numpy.percentile's default ('linear'), exact (all values are kept, as
//     runs of equal intervals).
//   * interarrival_cv = population standard deviation / mean of consecutive arrival gaps.
// Undefined values (a mean over nothing, λ with mean = min) are NaN: "null" in JSON, "-" in
// the table.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "workloads/request.hpp"

namespace kvsim::workload {

struct StatsOptions {
  std::uint32_t block_size = 16;  // tokens per block of the source's identities
  double min_reuse = 0.3;         // s; shorter reuse intervals are left out of the fits
};

struct LengthStats {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

struct IntervalStats {
  std::uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, min = 0;  // s
};

struct TypeReuse {
  std::string type;
  IntervalStats interval;  // hits attributed to the type, interval >= min_reuse
};

struct CategoryReuse {
  std::string category;           // category_name(type, turn)
  std::uint64_t accesses = 0;     // blocks requested by requests of the category
  IntervalStats interval;         // hits attributed to the category, interval >= min_reuse
  double lambda = 0;              // 1/s, 1 / (mean − min)
  double p_reuse = 0;             // interval.count / accesses
};

struct TraceStats {
  std::uint64_t requests = 0;
  std::uint64_t sessions = 0;
  double span = 0;             // s, last − first arrival
  double rate = 0;             // requests / span
  double interarrival_cv = 0;
  LengthStats input_tokens, output_tokens;
  std::vector<std::pair<std::string, double>> types;  // share of requests, in the source's order
  std::array<double, 5> turns{};                      // shares with turn 1, 2, 3-5, 6-10, >10

  std::uint32_t block_size = 0;
  double min_reuse = 0;
  std::uint64_t requested_blocks = 0;
  std::uint64_t hit_blocks = 0;
  std::uint64_t input_token_sum = 0;
  std::uint64_t hit_tokens = 0;
  double ideal_block_hit_ratio = 0;
  double ideal_token_hit_ratio = 0;
  std::uint64_t unique_blocks = 0;
  std::uint64_t reused_blocks = 0;
  double reused_block_fraction = 0;
  double top1pct_reuse_share = 0;
  double top10pct_reuse_share = 0;

  IntervalStats reuse_interval;         // every hit
  std::uint64_t short_reuses = 0;       // hits with interval < min_reuse
  std::vector<TypeReuse> reuse_by_type; // types with at least one request, source order
  std::vector<CategoryReuse> categories;  // categories with at least one request

  double hits_same_session_share = 0;
  double hits_cross_session_share = 0;
  double hits_single_turn_share = 0;
  double hits_multi_turn_share = 0;

  std::vector<std::pair<std::string, std::uint64_t>> report;  // Source::report() at the end
};

// Reads source to its end. Throws InputError when the source breaks its contract (arrivals
// going backwards, a category index without a name) and std::invalid_argument for a zero
// block size.
TraceStats compute_trace_stats(Source& source, const StatsOptions& options);

void print_trace_stats_table(std::ostream& out, const TraceStats& stats);
// One JSON object on one line (keys documented in workloads/README.md).
void print_trace_stats_json(std::ostream& out, const TraceStats& stats);

}  // namespace kvsim::workload
