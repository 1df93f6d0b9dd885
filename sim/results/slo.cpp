#include "sim/results/slo.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "sim/results/records.hpp"

namespace kvsim::results {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}
}  // namespace

std::string SloBound::name() const {
  std::string out = kSloMetricNames[static_cast<int>(metric)];
  if (is_mean()) return out + ".mean";
  char text[32];
  std::snprintf(text, sizeof text, ".p%.10g", percentile);
  return out + text;
}

std::string parse_slo_name(std::string_view name, SloBound& out) {
  const auto dot = name.find('.');
  const std::string_view metric = name.substr(0, dot);
  const std::string_view stat = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  bool known = false;
  for (int i = 0; i < 3; ++i) {
    if (metric == kSloMetricNames[i]) {
      out.metric = static_cast<SloMetric>(i);
      known = true;
    }
  }
  if (!known)
    return "unknown SLO metric \"" + std::string(metric) + "\" in \"" + std::string(name) +
           "\"; expected ttft, tpot or e2e (e.g. ttft.p99 = \"2s\")";
  if (stat == "mean") {
    out.percentile = -1;
    return "";
  }
  // pNN or pNN.N: digits, at most one dot, each part non-empty.
  const std::string_view digits = stat.starts_with('p') ? stat.substr(1) : std::string_view{};
  const auto point = digits.find('.');
  const bool well_formed = point == std::string_view::npos
                               ? all_digits(digits)
                               : all_digits(digits.substr(0, point)) && all_digits(digits.substr(point + 1));
  if (!well_formed)
    return "bad SLO statistic \"" + std::string(stat) + "\" in \"" + std::string(name) +
           "\"; expected pNN, pNN.N (a percentile, e.g. p99 or p99.9) or mean";
  out.percentile = std::strtod(std::string(digits).c_str(), nullptr);
  if (!(out.percentile > 0 && out.percentile <= 100))
    return "SLO percentile " + std::string(stat) + " in \"" + std::string(name) + "\" is outside (0, 100]";
  return "";
}

std::string split_slo_assignment(std::string_view assignment, std::string& name, std::string& value) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == assignment.size())
    return "expected METRIC.STAT=DURATION, e.g. --slo ttft.p99=2s, got \"" + std::string(assignment) + "\"";
  name = std::string(assignment.substr(0, eq));
  value = std::string(assignment.substr(eq + 1));
  return "";
}

double slo_statistic(std::vector<double> values, double percentile) {
  if (values.empty()) return 0;
  if (percentile < 0) {
    if (std::any_of(values.begin(), values.end(), [](double v) { return std::isinf(v); })) return kInf;
    return percentiles(std::move(values)).mean;
  }
  std::sort(values.begin(), values.end());
  // Same virtual index as numpy's 'linear' method; an infinite neighbour that carries weight
  // makes the statistic infinite (numpy would give NaN from inf - inf).
  const double index = static_cast<double>(values.size() - 1) * (percentile / 100.0);
  const auto lo = static_cast<std::size_t>(std::floor(index));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  const bool fractional = index > std::floor(index);
  if (std::isinf(values[lo]) || (fractional && std::isinf(values[hi]))) return kInf;
  // On a whole index the value itself (interpolating towards an infinite neighbour with
  // weight 0 would give NaN).
  if (!fractional) return values[lo];
  return sorted_percentile(values, percentile);
}

SloTally::SloTally(std::vector<SloBound> bounds) : bounds_(std::move(bounds)) {
  std::fill(std::begin(target_), std::end(target_), kInf);
  bool bounded[3] = {false, false, false};
  for (const SloBound& b : bounds_) {
    const int m = static_cast<int>(b.metric);
    target_[m] = bounded[m] ? std::max(target_[m], b.limit) : b.limit;
    bounded[m] = true;
  }
}

bool SloTally::add(bool completed, double ttft, double tpot, double e2e, std::uint32_t output_tokens) {
  ++counted_;
  const double metric[3] = {completed ? ttft : kInf, completed ? tpot : kInf, completed ? e2e : kInf};
  values_[0].push_back(metric[0]);
  if (output_tokens > 1) values_[1].push_back(metric[1]);
  values_[2].push_back(metric[2]);
  if (!completed) return false;
  // A one-token answer has no TPOT (recorded as 0), so a TPOT target never fails it.
  if (metric[0] <= target_[0] && metric[1] <= target_[1] && metric[2] <= target_[2]) {
    ++good_;
    good_tokens_ += output_tokens;
    return true;
  }
  return false;
}

SloOutcome SloTally::finish() const {
  SloOutcome out;
  out.counted = counted_;
  out.good = good_;
  out.good_output_tokens = good_tokens_;
  out.attainment = counted_ > 0 ? double(good_) / double(counted_) : 0.0;
  for (const SloBound& b : bounds_) {
    SloRecord r;
    const std::string name = b.name();
    std::strncpy(r.name, name.c_str(), sizeof r.name - 1);
    r.limit = b.limit;
    r.measured = slo_statistic(values_[static_cast<int>(b.metric)], b.percentile);
    r.margin = r.limit - r.measured;
    r.pass = r.measured <= r.limit ? 1 : 0;
    out.pass = out.pass && r.pass;
    out.records.push_back(r);
  }
  return out;
}

}  // namespace kvsim::results
