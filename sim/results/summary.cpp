// End-of-run statistics: reduces the per-request records to a Summary and prints it as a
// human table or a one-line JSON object. Percentiles follow numpy.percentile's default
// ('linear', Hyndman & Fan type 7) bit for bit where practical, so tools/check_results.py can
// recompute them from the /requests table and compare at 1e-9.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
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

}  // namespace

// sorted must be non-empty and NaN-free.
double sorted_percentile(const std::vector<double>& sorted, double percent) {
  // numpy computes the virtual index as (n - 1) * (q / 100) for the 'linear' method.
  const double index = static_cast<double>(sorted.size() - 1) * (percent / 100.0);
  const double below = std::floor(index);
  const auto lo = static_cast<std::size_t>(below);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return lerp_like_numpy(sorted[lo], sorted[hi], index - below);
}

namespace {

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
  p.p50 = sorted_percentile(values, 50);
  p.p90 = sorted_percentile(values, 90);
  p.p99 = sorted_percentile(values, 99);
  p.mean = accurate_sum(values) / static_cast<double>(values.size());
  return p;
}

namespace {

// Percentiles of the values whose parallel key is k (a service class or an instance group).
template <class Key>
Percentiles percentiles_of(const std::vector<double>& values, const std::vector<Key>& keys, Key k) {
  std::vector<double> out;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (keys[i] == k) out.push_back(values[i]);
  return percentiles(std::move(out));
}

constexpr std::uint16_t kNoGroup = 0xffff;  // a completed request of an instance outside every group

}  // namespace

SummaryBuilder::SummaryBuilder(SummaryOptions options) : options_(std::move(options)), slo_(options_.slo) {}

void SummaryBuilder::set_groups(std::vector<GroupRecord> groups, std::vector<std::int32_t> instance_group) {
  instance_group_ = std::move(instance_group);
  group_output_tokens_.assign(groups.size(), 0.0);
  group_cached_tokens_.assign(groups.size(), 0.0);
  group_input_tokens_.assign(groups.size(), 0.0);
  s_.groups = std::move(groups);
}

void SummaryBuilder::add_to_group(const RequestRecord& r) {
  if (s_.groups.empty()) return;
  const auto group_of = [&](std::int32_t instance) {
    return instance >= 0 && std::size_t(instance) < instance_group_.size()
               ? std::size_t(instance_group_[std::size_t(instance)])
               : std::size_t(kNoGroup);
  };
  // A disaggregated request is work of two groups: its prefill group produced the first
  // token (TTFT, prefix hits) and its decode group the rest (TPOT, E2E, output tokens,
  // preemptions). Other requests belong to the one group of their instance.
  const std::size_t decode = group_of(r.instance);
  const std::size_t prefill = r.prefill_instance >= 0 ? group_of(r.prefill_instance) : decode;
  const bool completed = r.status == RequestStatus::completed;
  // Parallel to ttft_, e2e_ and tpot_ (only needed to split them between two groups or more).
  if (completed && s_.groups.size() > 1) {
    group_of_ttft_.push_back(std::uint16_t(prefill));
    group_of_e2e_.push_back(std::uint16_t(decode));
    if (r.output_tokens > 1) group_of_tpot_.push_back(std::uint16_t(decode));
  }
  const auto count = [&](std::size_t g) {
    GroupRecord& row = s_.groups[g];
    ++row.requests;
    if (completed) ++row.completed;
  };
  if (prefill != kNoGroup) count(prefill);
  if (decode != kNoGroup && decode != prefill) count(decode);
  if (decode != kNoGroup) s_.groups[decode].preemptions += r.preemptions;
  if (!completed) return;
  if (decode != kNoGroup) group_output_tokens_[decode] += double(r.output_tokens);
  if (prefill != kNoGroup) {
    group_cached_tokens_[prefill] += double(r.cached_tokens);
    group_input_tokens_[prefill] += double(r.input_tokens);
  }
}

void SummaryBuilder::group_figures(Summary& s) const {
  for (std::size_t g = 0; g < s.groups.size(); ++g) {
    GroupRecord& row = s.groups[g];
    row.throughput_rps = ratio_or_zero(double(row.completed), s.window_duration);
    row.output_tokens_per_s = ratio_or_zero(group_output_tokens_[g], s.window_duration);
    row.prefix_hit_ratio = ratio_or_zero(group_cached_tokens_[g], group_input_tokens_[g]);
    if (s.groups.size() == 1) continue;  // its latencies are the run's, set once sorted
    const auto key = std::uint16_t(g);
    const Percentiles ttft = percentiles_of(ttft_, group_of_ttft_, key),
                      e2e = percentiles_of(e2e_, group_of_e2e_, key),
                      tpot = percentiles_of(tpot_, group_of_tpot_, key);
    row.ttft_p50 = ttft.p50, row.ttft_p99 = ttft.p99;
    row.tpot_p50 = tpot.p50, row.tpot_p99 = tpot.p99;
    row.e2e_p50 = e2e.p50, row.e2e_p99 = e2e.p99;
  }
}

void SummaryBuilder::add(const RequestRecord& r) {
  last_arrival_ = std::max(last_arrival_, r.arrival);
  if (r.status == RequestStatus::completed) s_.run_output_tokens += r.output_tokens;
  if (!r.in_window) {
    ++s_.excluded;
    return;
  }
  const bool good = slo_.add(r.status == RequestStatus::completed, r.ttft, r.tpot, r.e2e, r.output_tokens);
  if (r.status != RequestStatus::rejected) overload_.add(r.arrival, r.first_token >= 0 ? r.ttft : -1.0);
  ++s_.requests;
  s_.preemptions += r.preemptions;
  add_to_group(r);
  ClassRecord& c = class_counts_[r.service_class];
  ++c.requests;
  c.preemptions += r.preemptions;
  if (good) {
    c.goodput_rps += 1;  // counts until finish() divides
    c.goodput_tokens_per_s += double(r.output_tokens);
  }
  switch (r.status) {
    case RequestStatus::completed: ++s_.completed; ++c.completed; break;
    case RequestStatus::rejected: ++s_.rejected; ++c.rejected; break;
    case RequestStatus::unfinished: ++s_.unfinished; ++c.unfinished; break;
  }
  if (r.status != RequestStatus::completed) return;
  ttft_.push_back(r.ttft);
  e2e_.push_back(r.e2e);
  class_of_completed_.push_back(r.service_class);
  // A one-token answer has no inter-token gap; counting its 0 would flatter the TPOT.
  if (r.output_tokens > 1) {
    tpot_.push_back(r.tpot);
    class_of_tpot_.push_back(r.service_class);
  }
  class_output_tokens_[r.service_class] += double(r.output_tokens);
  if (!std::isnan(r.kv_transfer_end)) kv_transfer_.push_back(r.kv_transfer_end - r.kv_transfer_start);
  output_tokens_ += r.output_tokens;
  cached_tokens_ += r.cached_tokens;
  input_tokens_ += r.input_tokens;
}

std::vector<ClassRecord> SummaryBuilder::class_figures(double window_duration) const {
  const auto of_class = [](const std::vector<double>& values, const std::vector<std::uint8_t>& classes,
                           std::uint8_t c) { return percentiles_of(values, classes, c); };
  std::vector<ClassRecord> rows;
  for (auto [c, row] : class_counts_) {
    row.service_class = c;
    const Percentiles ttft = of_class(ttft_, class_of_completed_, c), e2e = of_class(e2e_, class_of_completed_, c),
                      tpot = of_class(tpot_, class_of_tpot_, c);
    row.ttft_p50 = ttft.p50, row.ttft_p99 = ttft.p99;
    row.tpot_p50 = tpot.p50, row.tpot_p99 = tpot.p99;
    row.e2e_p50 = e2e.p50, row.e2e_p99 = e2e.p99;
    row.throughput_rps = ratio_or_zero(double(row.completed), window_duration);
    const auto tokens = class_output_tokens_.find(c);
    row.output_tokens_per_s = ratio_or_zero(tokens == class_output_tokens_.end() ? 0.0 : tokens->second, window_duration);
    row.slo_attainment = ratio_or_zero(row.goodput_rps, double(row.requests));
    row.goodput_rps = ratio_or_zero(row.goodput_rps, window_duration);
    row.goodput_tokens_per_s = ratio_or_zero(row.goodput_tokens_per_s, window_duration);
    rows.push_back(row);
  }
  return rows;
}

Summary SummaryBuilder::finish(double sim_duration, double wall_time) {
  Summary s = s_;
  s.sim_duration = sim_duration;
  s.wall_time = wall_time;
  const bool windowed = options_.warmup > 0 || options_.cooldown > 0;
  s.window_duration =
      windowed ? std::max(0.0, last_arrival_ - options_.cooldown - options_.warmup) : sim_duration;
  s.throughput_rps = ratio_or_zero(static_cast<double>(s.completed), s.window_duration);
  s.output_tokens_per_s = ratio_or_zero(output_tokens_, s.window_duration);
  const SloOutcome slo = slo_.finish();
  s.slo_attainment = slo.attainment;
  s.slo_pass = slo.pass ? 1 : 0;
  s.goodput_rps = ratio_or_zero(static_cast<double>(slo.good), s.window_duration);
  s.goodput_tokens_per_s = ratio_or_zero(slo.good_output_tokens, s.window_duration);
  s.slo = slo.records;
  const OverloadVerdict overload = overload_.finish(sim_duration);
  s.overloaded = overload.overloaded ? 1 : 0;
  s.overload_growth = overload.growth;
  s.overload_explanation = overload.explanation;
  // Per-class figures first: they read the latencies in arrival order, beside their classes.
  s.classes = class_figures(s.window_duration);
  group_figures(s);
  // The latencies are sorted in place rather than copied: at 10M requests a copy would add
  // 80 MB to the run's peak memory. finish() is called once per builder.
  s.ttft = percentiles(std::move(ttft_));
  s.tpot = percentiles(std::move(tpot_));
  s.e2e = percentiles(std::move(e2e_));
  if (s.groups.size() == 1) {
    GroupRecord& only = s.groups.front();
    only.ttft_p50 = s.ttft.p50, only.ttft_p99 = s.ttft.p99;
    only.tpot_p50 = s.tpot.p50, only.tpot_p99 = s.tpot.p99;
    only.e2e_p50 = s.e2e.p50, only.e2e_p99 = s.e2e.p99;
  }
  s.prefix_hit_ratio = ratio_or_zero(cached_tokens_, input_tokens_);
  s.kv_handoffs = kv_transfer_.size();
  const Percentiles transfer = percentiles(std::move(kv_transfer_));
  s.kv_transfer_mean = transfer.mean;
  s.kv_transfer_p99 = transfer.p99;
  s.requests_per_wall_second = ratio_or_zero(static_cast<double>(s.requests + s.excluded), wall_time);
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
      << format("%.3f", s.window_duration) << " s"
      << (s.excluded > 0 ? " of the window, " + format("%.3f", s.sim_duration) + " s simulated\n" : " simulated\n");
  out << "latency (ms)           p50         p90         p99        mean\n";
  row("ttft", s.ttft);
  row("tpot", s.tpot);
  row("e2e", s.e2e);
  out << "cache         prefix hit ratio " << format("%.2f", s.prefix_hit_ratio * 100) << " %\n";
  if (s.kv_handoffs > 0)
    out << "p/d           " << count(s.kv_handoffs) << " KV hand-offs   transfer mean " << format("%.3f", s.kv_transfer_mean * 1e3)
        << " ms   p99 " << format("%.3f", s.kv_transfer_p99 * 1e3) << " ms\n";
  if (s.excluded > 0)
    out << "window        " << count(s.excluded) << " requests of the warm-up/cool-down left out; rates over "
        << format("%.3f", s.window_duration) << " s\n";
  if (!s.slo.empty()) {
    out << "slo           " << (s.slo_pass ? "PASS" : "FAIL") << "   attainment " << format("%.2f", s.slo_attainment * 100)
        << " %   goodput " << format("%.3f", s.goodput_rps) << " req/s   " << format("%.1f", s.goodput_tokens_per_s)
        << " output tok/s\n";
    for (const SloRecord& r : s.slo) {
      char label[32];
      std::snprintf(label, sizeof label, "  %-12s", r.name);
      out << label << "limit " << ms(r.limit) << " ms   measured " << ms(r.measured) << " ms   margin "
          << format("%+12.3f", r.margin * 1e3) << " ms   " << (r.pass ? "pass" : "FAIL") << '\n';
    }
  }
  if (s.classes.size() > 1) {
    out << "classes       requests   ttft p50/p99 (ms)      tpot p50/p99 (ms)   output tok/s  attainment  preemptions\n";
    for (const ClassRecord& c : s.classes) {
      char line[200];
      const std::string name = c.service_class == 0 ? "online" : "offline " + std::to_string(c.service_class);
      std::snprintf(line, sizeof line, "  %-10s%10llu%10.1f%10.1f%12.2f%10.2f%14.1f%11.2f %%%13llu\n", name.c_str(),
                    static_cast<unsigned long long>(c.requests), c.ttft_p50 * 1e3, c.ttft_p99 * 1e3, c.tpot_p50 * 1e3,
                    c.tpot_p99 * 1e3, c.output_tokens_per_s, c.slo_attainment * 100,
                    static_cast<unsigned long long>(c.preemptions));
      out << line;
    }
  }
  if (s.groups.size() > 1) {
    out << "groups        model          gpu        tp x n  requests   ttft p50/p99 (ms)   tpot p50/p99 (ms)   output tok/s"
           "   hit %  preemptions\n";
    for (const GroupRecord& g : s.groups) {
      char line[256];
      std::snprintf(line, sizeof line, "  %-12.32s%-15.32s%-10.24s%3u x%3u%10llu%10.1f%10.1f%10.2f%10.2f%15.1f%8.2f%13llu\n",
                    g.name, g.model, g.gpu, g.tp, g.instances, static_cast<unsigned long long>(g.requests),
                    g.ttft_p50 * 1e3, g.ttft_p99 * 1e3, g.tpot_p50 * 1e3, g.tpot_p99 * 1e3, g.output_tokens_per_s,
                    g.prefix_hit_ratio * 100, static_cast<unsigned long long>(g.preemptions));
      out << line;
    }
  }
  if (!s.overload_explanation.empty()) out << "load          " << s.overload_explanation << '\n';
  if (s.energy_joules > 0) {
    out << "energy        " << format("%.6g", s.energy_joules / 3.6e6) << " kWh   average " << format("%.1f", s.average_power_watts)
        << " W   " << format("%.4g", s.joules_per_output_token) << " J per output token";
    if (s.cost > 0)
      out << "   cost " << format("%.6g", s.cost) << " (" << format("%.6g", s.cost_per_million_output_tokens)
          << " per million output tokens)";
    out << '\n';
  }
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
      << ",\"requests_per_wall_second\":" << json_number(s.requests_per_wall_second)
      << ",\"excluded\":" << integer(s.excluded) << ",\"window_duration\":" << json_number(s.window_duration)
      << ",\"slo_attainment\":" << json_number(s.slo_attainment) << ",\"slo_pass\":" << integer(s.slo_pass)
      << ",\"goodput_rps\":" << json_number(s.goodput_rps)
      << ",\"goodput_tokens_per_s\":" << json_number(s.goodput_tokens_per_s)
      << ",\"overloaded\":" << integer(s.overloaded) << ",\"overload_growth\":" << json_number(s.overload_growth)
      << ",\"energy_joules\":" << json_number(s.energy_joules)
      << ",\"average_power_watts\":" << json_number(s.average_power_watts)
      << ",\"joules_per_output_token\":" << json_number(s.joules_per_output_token)
      << ",\"cost\":" << json_number(s.cost)
      << ",\"cost_per_million_output_tokens\":" << json_number(s.cost_per_million_output_tokens);
  if (s.kv_handoffs > 0)  // only with P/D, so the JSON of other runs is unchanged
    out << ",\"kv_handoffs\":" << integer(s.kv_handoffs) << ",\"kv_transfer_mean\":" << json_number(s.kv_transfer_mean)
        << ",\"kv_transfer_p99\":" << json_number(s.kv_transfer_p99);
  out << ",\"slo\":[";
  for (std::size_t i = 0; i < s.slo.size(); ++i) {
    const SloRecord& r = s.slo[i];
    // measured is null when unserved requests make it infinite (JSON has no infinity).
    out << (i ? "," : "") << "{\"name\":\"" << r.name << "\",\"limit\":" << json_number(r.limit)
        << ",\"measured\":" << json_number(r.measured) << ",\"margin\":" << json_number(r.margin)
        << ",\"pass\":" << integer(r.pass) << "}";
  }
  out << "],\"classes\":[";
  for (std::size_t i = 0; i < s.classes.size(); ++i) {
    const ClassRecord& c = s.classes[i];
    out << (i ? "," : "") << "{\"service_class\":" << integer(c.service_class) << ",\"requests\":" << integer(c.requests)
        << ",\"completed\":" << integer(c.completed) << ",\"rejected\":" << integer(c.rejected)
        << ",\"unfinished\":" << integer(c.unfinished) << ",\"preemptions\":" << integer(c.preemptions)
        << ",\"ttft_p50\":" << json_number(c.ttft_p50) << ",\"ttft_p99\":" << json_number(c.ttft_p99)
        << ",\"tpot_p50\":" << json_number(c.tpot_p50) << ",\"tpot_p99\":" << json_number(c.tpot_p99)
        << ",\"e2e_p50\":" << json_number(c.e2e_p50) << ",\"e2e_p99\":" << json_number(c.e2e_p99)
        << ",\"throughput_rps\":" << json_number(c.throughput_rps)
        << ",\"output_tokens_per_s\":" << json_number(c.output_tokens_per_s)
        << ",\"slo_attainment\":" << json_number(c.slo_attainment) << ",\"goodput_rps\":" << json_number(c.goodput_rps)
        << ",\"goodput_tokens_per_s\":" << json_number(c.goodput_tokens_per_s) << "}";
  }
  out << "],\"groups\":[";
  const auto text = [](const char* field, std::size_t size) { return json_quote(std::string(field, strnlen(field, size))); };
  for (std::size_t i = 0; i < s.groups.size(); ++i) {
    const GroupRecord& g = s.groups[i];
    out << (i ? "," : "") << "{\"name\":" << text(g.name, sizeof g.name) << ",\"role\":" << text(g.role, sizeof g.role)
        << ",\"model\":" << text(g.model, sizeof g.model) << ",\"gpu\":" << text(g.gpu, sizeof g.gpu)
        << ",\"tp\":" << integer(g.tp) << ",\"instances\":" << integer(g.instances)
        << ",\"requests\":" << integer(g.requests) << ",\"completed\":" << integer(g.completed)
        << ",\"preemptions\":" << integer(g.preemptions) << ",\"throughput_rps\":" << json_number(g.throughput_rps)
        << ",\"output_tokens_per_s\":" << json_number(g.output_tokens_per_s)
        << ",\"ttft_p50\":" << json_number(g.ttft_p50) << ",\"ttft_p99\":" << json_number(g.ttft_p99)
        << ",\"tpot_p50\":" << json_number(g.tpot_p50) << ",\"tpot_p99\":" << json_number(g.tpot_p99)
        << ",\"e2e_p50\":" << json_number(g.e2e_p50) << ",\"e2e_p99\":" << json_number(g.e2e_p99)
        << ",\"prefix_hit_ratio\":" << json_number(g.prefix_hit_ratio) << "}";
  }
  out << "]}\n";
}

}  // namespace kvsim::results
