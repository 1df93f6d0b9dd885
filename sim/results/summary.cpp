// End-of-run statistics: reduces the per-request records to a Summary and prints it as a
// human table or a one-line JSON object. Percentiles follow numpy.percentile's default
// ('linear', Hyndman & Fan type 7) bit for bit where practical, so tools/check_results.py can
// recompute them from the /requests table and compare at 1e-9.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>

#include "sim/results/records.hpp"
#include "sim/util/text.hpp"

namespace kvsim::results {

const char* to_string(RequestStatus status) {
  switch (status) {
    case RequestStatus::completed: return "completed";
    case RequestStatus::rejected: return "rejected";
    case RequestStatus::unfinished: return "unfinished";
  }
  return "unknown";
}

namespace {

// numpy's _lerp: interpolating from the nearer end keeps the result monotone and exact at
// t = 1, and matching its arithmetic keeps us within an ulp of numpy rather than "close".
double lerp_like_numpy(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

// sorted must be non-empty and NaN-free.
double percentile_of_sorted(const std::vector<double>& sorted, double percent) {
  // numpy computes the virtual index as (n - 1) * (q / 100) for the 'linear' method.
  const double index = static_cast<double>(sorted.size() - 1) * (percent / 100.0);
  const double below = std::floor(index);
  const auto lo = static_cast<std::size_t>(below);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return lerp_like_numpy(sorted[lo], sorted[hi], index - below);
}

// Neumaier-compensated sum: numpy's mean uses pairwise summation, and a naive running sum over
// a million latencies can drift further from it than the checker's 1e-9 tolerance.
double accurate_sum(const std::vector<double>& values) {
  double sum = 0, compensation = 0;
  for (const double v : values) {
    const double t = sum + v;
    if (std::fabs(sum) >= std::fabs(v)) {
      compensation += (sum - t) + v;
    } else {
      compensation += (v - t) + sum;
    }
    sum = t;
  }
  return sum + compensation;
}

double ratio_or_zero(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0.0;
}

std::string format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

std::string json_percentiles(const Percentiles& p) {
  return "{\"p50\":" + json_number(p.p50) + ",\"p90\":" + json_number(p.p90) +
         ",\"p99\":" + json_number(p.p99) + ",\"mean\":" + json_number(p.mean) + "}";
}

}  // namespace

Percentiles percentiles(std::vector<double> values) {
  if (values.empty()) return {};
  // numpy propagates NaN; std::sort with NaN is undefined behaviour, so answer before sorting.
  if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
    const double nan = std::nan("");
    return {nan, nan, nan, nan};
  }
  std::sort(values.begin(), values.end());
  Percentiles p;
  p.p50 = percentile_of_sorted(values, 50);
  p.p90 = percentile_of_sorted(values, 90);
  p.p99 = percentile_of_sorted(values, 99);
  p.mean = accurate_sum(values) / static_cast<double>(values.size());
  return p;
}

void SummaryBuilder::add(const RequestRecord& r) {
  ++s_.requests;
  s_.preemptions += r.preemptions;
  switch (r.status) {
    case RequestStatus::completed: ++s_.completed; break;
    case RequestStatus::rejected: ++s_.rejected; break;
    case RequestStatus::unfinished: ++s_.unfinished; break;
  }
  if (r.status != RequestStatus::completed) return;
  ttft_.push_back(r.ttft);
  e2e_.push_back(r.e2e);
  // A one-token answer has no inter-token gap; counting its 0 would flatter the TPOT.
  if (r.output_tokens > 1) tpot_.push_back(r.tpot);
  output_tokens_ += r.output_tokens;
  cached_tokens_ += r.cached_tokens;
  input_tokens_ += r.input_tokens;
}

Summary SummaryBuilder::finish(double sim_duration, double wall_time) {
  Summary s = s_;
  s.sim_duration = sim_duration;
  s.wall_time = wall_time;
  s.throughput_rps = ratio_or_zero(static_cast<double>(s.completed), sim_duration);
  s.output_tokens_per_s = ratio_or_zero(output_tokens_, sim_duration);
  // The latencies are sorted in place rather than copied: at 10M requests a copy would add
  // 80 MB to the run's peak memory. finish() is called once per builder.
  s.ttft = percentiles(std::move(ttft_));
  s.tpot = percentiles(std::move(tpot_));
  s.e2e = percentiles(std::move(e2e_));
  s.prefix_hit_ratio = ratio_or_zero(cached_tokens_, input_tokens_);
  s.requests_per_wall_second = ratio_or_zero(static_cast<double>(s.requests), wall_time);
  return s;
}

Summary summarize(std::span<const RequestRecord> records, double sim_duration, double wall_time) {
  SummaryBuilder builder;
  for (const RequestRecord& r : records) builder.add(r);
  return builder.finish(sim_duration, wall_time);
}

void print_summary_table(std::ostream& out, const Summary& s) {
  const auto count = [](std::uint64_t n) { return std::to_string(n); };
  const auto ms = [](double seconds) { return format("%12.3f", seconds * 1e3); };
  const auto row = [&](const char* name, const Percentiles& p) {
    char label[16];
    std::snprintf(label, sizeof label, "  %-12s", name);
    out << label << ms(p.p50) << ms(p.p90) << ms(p.p99) << ms(p.mean) << '\n';
  };

  out << "requests      released " << count(s.requests) << "   completed " << count(s.completed)
      << "   rejected " << count(s.rejected) << "   unfinished " << count(s.unfinished)
      << "   preemptions " << count(s.preemptions) << '\n';
  out << "throughput    " << format("%.3f", s.throughput_rps) << " req/s   "
      << format("%.1f", s.output_tokens_per_s) << " output tok/s   over "
      << format("%.3f", s.sim_duration) << " s simulated\n";
  out << "latency (ms)           p50         p90         p99        mean\n";
  row("ttft", s.ttft);
  row("tpot", s.tpot);
  row("e2e", s.e2e);
  out << "cache         prefix hit ratio " << format("%.2f", s.prefix_hit_ratio * 100) << " %\n";
  out << "performance   wall time " << format("%.3f", s.wall_time) << " s   "
      << format(s.requests_per_wall_second >= 100 ? "%.0f" : "%.2f", s.requests_per_wall_second)
      << " simulated requests per wall-second\n";
}

void print_summary_json(std::ostream& out, const Summary& s) {
  const auto integer = [](std::uint64_t n) { return std::to_string(n); };
  out << "{\"requests\":" << integer(s.requests) << ",\"completed\":" << integer(s.completed)
      << ",\"rejected\":" << integer(s.rejected) << ",\"unfinished\":" << integer(s.unfinished)
      << ",\"sim_duration\":" << json_number(s.sim_duration)
      << ",\"throughput_rps\":" << json_number(s.throughput_rps)
      << ",\"output_tokens_per_s\":" << json_number(s.output_tokens_per_s)
      << ",\"ttft\":" << json_percentiles(s.ttft) << ",\"tpot\":" << json_percentiles(s.tpot)
      << ",\"e2e\":" << json_percentiles(s.e2e)
      << ",\"prefix_hit_ratio\":" << json_number(s.prefix_hit_ratio)
      << ",\"preemptions\":" << integer(s.preemptions)
      << ",\"wall_time\":" << json_number(s.wall_time)
      << ",\"requests_per_wall_second\":" << json_number(s.requests_per_wall_second) << "}\n";
}

}  // namespace kvsim::results
