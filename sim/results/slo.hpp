// Service-level objectives: latency bounds such as "ttft.p99 = 2s", and their evaluation over
// a run's requests. Pure code (no engine, no files), unit-tested on its own.
//
// Definitions (README "SLOs"; results/README.md /slo):
// - A bound names a metric (ttft, tpot, e2e), a statistic (pNN, pNN.N or mean) and a limit
//   in seconds. Each bound is pass/fail on the run: the run's statistic of the metric must
//   not exceed the limit.
// - The statistic is taken over every counted request, and a request that was rejected or
//   did not finish counts as infinitely late: leaving 2 % of the requests unserved fails a
//   p99 bound, whatever the served ones did. TPOT ignores requests with a single output
//   token (they have no inter-token gap), as the summary's TPOT percentiles do.
// - Per request, a metric's target is its loosest bound (a p50 bound lets half the requests
//   exceed it, so it cannot be a promise to each request; the tail bound is). A request
//   "meets the SLOs" when it completed and each of its metrics is within its target.
//   Attainment = requests meeting the SLOs / counted requests (completed, rejected and
//   unfinished alike); goodput = those requests (and their output tokens) per second.
//   Without any bound a request meets the SLOs when it completed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsim::results {

enum class SloMetric : std::uint8_t { ttft = 0, tpot = 1, e2e = 2 };
inline constexpr const char* kSloMetricNames[] = {"ttft", "tpot", "e2e"};

struct SloBound {
  SloMetric metric = SloMetric::ttft;
  double percentile = 99;  // in (0, 100]; negative: the mean
  double limit = 0;        // s
  bool is_mean() const { return percentile < 0; }
  // "ttft.p99", "tpot.p99.9", "e2e.mean"
  std::string name() const;
};

// Parses a bound's name ("ttft.p99", "e2e.p99.9", "tpot.mean"). Returns an empty string and
// fills out (all but the limit) on success, else a message saying what is wrong.
std::string parse_slo_name(std::string_view name, SloBound& out);

// Parses a command-line bound "ttft.p99=2s" into the dotted name and the duration text.
// Returns an empty string on success, else what is wrong.
std::string split_slo_assignment(std::string_view assignment, std::string& name, std::string& value);

// One row of /slo: a bound and how the run did against it.
struct SloRecord {
  char name[24] = {};    // "ttft.p99"
  double limit = 0;      // s
  double measured = 0;   // s, the run's statistic (+inf when unserved requests decide it)
  double margin = 0;     // s, limit - measured (negative: violated)
  std::uint8_t pass = 0; // 1 when measured <= limit
};

struct SloOutcome {
  std::vector<SloRecord> records;  // one per bound, in the order given
  std::uint64_t counted = 0;       // requests the figures cover
  std::uint64_t good = 0;          // of which meeting the SLOs
  double good_output_tokens = 0;
  double attainment = 0;           // good / counted (0 when nothing was counted)
  bool pass = true;                // every bound holds (true without bounds)
};

// Accumulates requests one at a time and evaluates the bounds at the end.
class SloTally {
 public:
  explicit SloTally(std::vector<SloBound> bounds = {});

  // completed == false: rejected or unfinished (infinitely late for every metric).
  // Returns whether the request met every per-request target.
  bool add(bool completed, double ttft, double tpot, double e2e, std::uint32_t output_tokens);
  SloOutcome finish() const;

 private:
  std::vector<SloBound> bounds_;
  double target_[3];  // per-request target of each metric, +inf when unbounded
  std::vector<double> values_[3];  // per metric, +inf for unserved requests
  std::uint64_t counted_ = 0, good_ = 0;
  double good_tokens_ = 0;
};

// A statistic of values that may hold +inf: numpy's linear percentile over the sorted
// values (an infinite neighbour makes the result infinite), or the mean. Empty: 0.
double slo_statistic(std::vector<double> values, double percentile);

}  // namespace kvsim::results
