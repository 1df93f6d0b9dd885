// `kvsim trace stats`: the one-pass workload characterisation; definitions in trace_stats.hpp.
#include "workloads/analysis/trace_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <ostream>

#include "sim/util/error.hpp"
#include "sim/util/text.hpp"
#include "workloads/analysis/reuse_partition.hpp"
#include "workloads/analysis/u64_map.hpp"
#include "workloads/category.hpp"

namespace kvsim::workload {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Turn buckets of the category names (1, 2, ..., kTurnCap+) and of the turn mix.
constexpr std::uint32_t kTurnBuckets = kTurnCap;

// Reuse intervals as runs: `count` hits with the same interval (the blocks one request found
// that one earlier request had touched last).
// Exact doubles: runs are few (one or two per request), small beside the block map.
struct IntervalRun {
  double interval;
  std::uint32_t count;
};

// numpy's _lerp: interpolating from the nearer end keeps results monotone and exact at t = 1.
double lerp_like_numpy(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

// numpy.percentile(..., method='linear') of n sorted values, value_at(rank) giving the value
// of 0-based rank.
double percentile(std::uint64_t n, double percent, const std::function<double(std::uint64_t)>& value_at) {
  if (n == 0) return kNaN;
  const double index = static_cast<double>(n - 1) * (percent / 100.0);
  const double below = std::floor(index);
  const auto lo = static_cast<std::uint64_t>(below);
  const std::uint64_t hi = std::min(lo + 1, n - 1);
  return lerp_like_numpy(value_at(lo), value_at(hi), index - below);
}

// Reorders values so that each of the given 0-based ranks holds the value the sorted order
// has there: successive selections on the part above the previous rank, linear time
// instead of a full sort.
void select_ranks(std::vector<std::uint32_t>& values, std::vector<std::uint64_t> ranks) {
  std::sort(ranks.begin(), ranks.end());
  auto rest = values.begin();
  for (const std::uint64_t rank : ranks) {
    const auto nth = values.begin() + static_cast<std::ptrdiff_t>(rank);
    if (nth < rest) continue;  // a repeated rank
    std::nth_element(rest, nth, values.end());
    rest = nth + 1;
  }
}

LengthStats length_stats(std::vector<std::uint32_t>& values, std::uint64_t sum) {
  LengthStats s;
  if (values.empty()) return s;
  // The ranks percentile() reads below (floor and ceiling of each percentile's index) and
  // the maximum.
  std::vector<std::uint64_t> ranks{values.size() - 1};
  for (const double percent : {50.0, 90.0, 99.0}) {
    const auto lo = static_cast<std::uint64_t>(std::floor(static_cast<double>(values.size() - 1) * (percent / 100.0)));
    ranks.push_back(lo);
    ranks.push_back(std::min<std::uint64_t>(lo + 1, values.size() - 1));
  }
  select_ranks(values, ranks);
  const auto at = [&](std::uint64_t r) { return static_cast<double>(values[r]); };
  s.mean = static_cast<double>(sum) / static_cast<double>(values.size());
  s.p50 = percentile(values.size(), 50, at);
  s.p90 = percentile(values.size(), 90, at);
  s.p99 = percentile(values.size(), 99, at);
  s.max = values.back();
  return s;
}

bool shorter(const IntervalRun& a, const IntervalRun& b) { return a.interval < b.interval; }

// The runs of a and b in one sorted vector (both sorted by interval): the per-type and
// overall distributions are merged from the categories' sorted runs instead of sorted again.
std::vector<IntervalRun> merged(const std::vector<IntervalRun>& a, const std::vector<IntervalRun>& b) {
  std::vector<IntervalRun> out(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), out.begin(), shorter);
  return out;
}

// Distribution of runs sorted by interval; sum and min come from the caller.
IntervalStats interval_stats(const std::vector<IntervalRun>& runs, double sum, double min) {
  IntervalStats s;
  std::vector<std::uint64_t> end_rank(runs.size());  // ranks [end_rank[i-1], end_rank[i]) hold run i
  for (std::size_t i = 0; i < runs.size(); ++i) s.count = end_rank[i] = s.count + runs[i].count;
  if (s.count == 0) return {0, kNaN, kNaN, kNaN, kNaN, kNaN};
  const auto at = [&](std::uint64_t rank) {
    const auto it = std::upper_bound(end_rank.begin(), end_rank.end(), rank);
    return runs[static_cast<std::size_t>(it - end_rank.begin())].interval;
  };
  s.mean = sum / static_cast<double>(s.count);
  s.p50 = percentile(s.count, 50, at);
  s.p90 = percentile(s.count, 90, at);
  s.p99 = percentile(s.count, 99, at);
  s.min = min;
  return s;
}

double ratio(double numerator, double denominator) { return denominator > 0 ? numerator / denominator : 0.0; }

// Session ids folded to 32 bits: exact below 2^32 (see trace_stats.hpp).
std::uint32_t fold_session(std::uint64_t session) { return static_cast<std::uint32_t>(session ^ (session >> 32)); }

std::size_t turn_mix_bucket(std::uint32_t turn) {
  if (turn <= 1) return 0;
  if (turn == 2) return 1;
  if (turn <= 5) return 2;
  if (turn <= 10) return 3;
  return 4;
}

// Accumulators of one category's attributed reuses (interval >= min_reuse).
struct CategoryAccumulator {
  std::uint64_t requests = 0;
  std::uint64_t accesses = 0;
  std::vector<IntervalRun> runs;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
};

// Two passes: add() reads the source, keeping a few numbers per request and handing every
// block reference to a ReusePartition; replay_hits() then walks the requests again in order
// with the previous access of each reference, exactly as a one-pass probe of a table of all
// blocks would have seen it.
class Analyzer {
  static constexpr std::size_t kPrefetchAhead = 8;

 public:
  Analyzer(Source& source, const StatsOptions& options) : source_(source), options_(options), sessions_(1024) {
    if (options.block_size == 0) throw std::invalid_argument("trace stats: block size must be positive");
  }

  TraceStats run() {
    Request request;  // one, refilled: the source reuses its block storage
    while (source_.next_into(request)) add(request);
    return finish();
  }

 private:
  void add(const Request& r) {
    if (requests_ >= std::numeric_limits<std::uint32_t>::max())
      throw InputError("trace", 0, "", "trace stats handles at most 2^32 - 1 requests");
    const auto ordinal = static_cast<std::uint32_t>(requests_++);
    if (r.category >= source_.categories().size())
      throw InputError("trace", 0, "category",
                       "request " + std::to_string(r.id) + " has category index " + std::to_string(r.category) +
                           " but the source names only " + std::to_string(source_.categories().size()));
    if (ordinal > 0) {
      const double gap = r.arrival - arrival_.back();
      if (gap < 0)
        throw InputError("trace", 0, "arrival",
                         "request " + std::to_string(r.id) + " arrives before the previous one (" +
                             std::to_string(r.arrival) + " s < " + std::to_string(arrival_.back()) + " s); use --sort");
      // Welford: stable for millions of gaps.
      ++gaps_;
      const double delta = gap - gap_mean_;
      gap_mean_ += delta / static_cast<double>(gaps_);
      gap_m2_ += delta * (gap - gap_mean_);
    } else {
      first_arrival_ = r.arrival;
    }

    const std::uint32_t turn = std::max<std::uint32_t>(r.turn, 1);
    const std::uint32_t category = r.category * kTurnBuckets + std::min(turn, kTurnBuckets) - 1;
    if (category >= categories_.size()) categories_.resize(category + 1);
    CategoryAccumulator& own = categories_[category];
    ++own.requests;
    ++turn_mix_[turn_mix_bucket(turn)];
    sessions_.insert_one(r.session);
    const std::uint32_t session = fold_session(r.session);
    arrival_.push_back(r.arrival);
    session_.push_back(session);
    category_.push_back(category);
    input_.push_back(r.input_tokens);
    output_.push_back(r.output_tokens);
    input_sum_ += r.input_tokens;
    output_sum_ += r.output_tokens;

    block_count_.push_back(static_cast<std::uint32_t>(r.blocks.size()));
    if (r.blocks.empty()) {
      const std::uint64_t n = (std::uint64_t{r.input_tokens} + options_.block_size - 1) / options_.block_size;
      requested_blocks_ += n;
      own.accesses += n;
      anonymous_blocks_ += n;
      return;
    }
    if (r.blocks.size() >= std::numeric_limits<std::uint32_t>::max())
      throw InputError("trace", 0, "blocks", "request " + std::to_string(r.id) + " has 2^32 or more blocks");
    requested_blocks_ += r.blocks.size();
    own.accesses += r.blocks.size();
    const std::size_t n = r.blocks.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kPrefetchAhead < n) reuse_.prefetch(r.blocks[i + kPrefetchAhead]);
      reuse_.add(r.blocks[i], ordinal);
    }
  }

  // The hits of every request, in request order and block order within a request (the
  // order the floating-point sums of add_run() were defined in).
  void replay_hits() {
    reuse_.resolve();
    for (std::size_t ordinal = 0; ordinal < block_count_.size(); ++ordinal) {
      const std::uint32_t n = block_count_[ordinal];
      if (n == 0) continue;
      const double arrival = arrival_[ordinal];
      const std::uint32_t session = session_[ordinal];
      std::uint64_t hits = 0;
      std::uint32_t run_last = 0;
      std::uint32_t run_count = 0;
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t last = reuse_.previous();
        if (last == ReusePartition::kFirstAccess) continue;
        ++hits;
        if (run_count > 0 && last != run_last) {
          add_run(arrival, session, run_last, run_count);
          run_count = 0;
        }
        run_last = last;
        ++run_count;
      }
      if (run_count > 0) add_run(arrival, session, run_last, run_count);
      hit_blocks_ += hits;
      hit_tokens_ += std::min<std::uint64_t>(hits * options_.block_size, input_[ordinal]);
      // Turn bucket 0 of a category is turn 1.
      (category_[ordinal] % kTurnBuckets == 0 ? single_turn_hits_ : multi_turn_hits_) += hits;
    }
  }

  // count hits at `arrival` by a request of session `session` on blocks request `last` touched last.
  void add_run(double arrival, std::uint32_t session, std::uint32_t last, std::uint32_t count) {
    const double interval = arrival - arrival_[last];
    const double weighted = interval * count;
    interval_sum_ += weighted;
    interval_min_ = std::min(interval_min_, interval);
    if (session_[last] == session) same_session_hits_ += count;
    const IntervalRun run{interval, count};
    if (interval < options_.min_reuse) {
      short_runs_.push_back(run);
      short_reuses_ += count;
      return;
    }
    CategoryAccumulator& owner = categories_[category_[last]];
    owner.runs.push_back(run);
    owner.sum += weighted;
    owner.min = std::min(owner.min, interval);
  }

  TraceStats finish() {
    replay_hits();  // before input_ is sorted
    TraceStats s;
    const auto& names = source_.categories();
    s.requests = requests_;
    s.sessions = sessions_.size();
    if (requests_ > 0) s.span = arrival_.back() - first_arrival_;
    s.rate = ratio(static_cast<double>(requests_), s.span);
    s.interarrival_cv = gaps_ > 0 && gap_mean_ > 0 ? std::sqrt(gap_m2_ / static_cast<double>(gaps_)) / gap_mean_ : 0.0;
    s.input_tokens = length_stats(input_, input_sum_);
    s.output_tokens = length_stats(output_, output_sum_);
    std::vector<std::uint32_t>().swap(input_);  // sorted copies no longer needed
    std::vector<std::uint32_t>().swap(output_);

    const double total = static_cast<double>(requests_);
    for (std::size_t t = 0; t < names.size(); ++t) {
      std::uint64_t n = 0;
      for (std::uint32_t b = 0; b < kTurnBuckets; ++b)
        if (t * kTurnBuckets + b < categories_.size()) n += categories_[t * kTurnBuckets + b].requests;
      s.types.emplace_back(names[t], ratio(static_cast<double>(n), total));
    }
    for (std::size_t b = 0; b < s.turns.size(); ++b) s.turns[b] = ratio(static_cast<double>(turn_mix_[b]), total);

    s.block_size = options_.block_size;
    s.min_reuse = options_.min_reuse;
    s.requested_blocks = requested_blocks_;
    s.hit_blocks = hit_blocks_;
    s.input_token_sum = input_sum_;
    s.hit_tokens = hit_tokens_;
    s.ideal_block_hit_ratio = ratio(static_cast<double>(hit_blocks_), static_cast<double>(requested_blocks_));
    s.ideal_token_hit_ratio = ratio(static_cast<double>(hit_tokens_), static_cast<double>(input_sum_));
    reuse_skew(s);

    s.short_reuses = short_reuses_;
    s.hits_same_session_share = ratio(static_cast<double>(same_session_hits_), static_cast<double>(hit_blocks_));
    s.hits_cross_session_share = hit_blocks_ > 0 ? 1.0 - s.hits_same_session_share : 0.0;
    s.hits_single_turn_share = ratio(static_cast<double>(single_turn_hits_), static_cast<double>(hit_blocks_));
    s.hits_multi_turn_share = ratio(static_cast<double>(multi_turn_hits_), static_cast<double>(hit_blocks_));
    intervals(s, names);
    s.report = source_.report();
    return s;
  }

  void reuse_skew(TraceStats& s) {
    std::vector<std::uint32_t> reuses = reuse_.take_reuses();  // of the blocks reused at least once
    s.unique_blocks = reuse_.unique_blocks() + anonymous_blocks_;
    s.reused_blocks = reuses.size();
    s.reused_block_fraction = ratio(static_cast<double>(reuses.size()), static_cast<double>(s.unique_blocks));
    std::uint64_t all = 0;
    for (const std::uint32_t r : reuses) all += r;
    // Sum of the k largest reuse counts: a selection, not a sort (the order within the top
    // k does not change the sum). top_share(10) first, then 1 % selects inside its top.
    const auto top_share = [&](std::uint64_t percent) {
      const std::uint64_t k = std::min<std::uint64_t>((s.unique_blocks * percent + 99) / 100, reuses.size());
      std::nth_element(reuses.begin(), reuses.begin() + static_cast<std::ptrdiff_t>(k), reuses.end(), std::greater<>());
      std::uint64_t top = 0;
      for (std::uint64_t i = 0; i < k; ++i) top += reuses[i];
      return ratio(static_cast<double>(top), static_cast<double>(all));
    };
    s.top10pct_reuse_share = top_share(10);
    reuses.resize(std::min<std::size_t>(reuses.size(), (s.unique_blocks * 10 + 99) / 100));
    s.top1pct_reuse_share = top_share(1);
  }

  void intervals(TraceStats& s, const std::vector<std::string>& names) {
    std::sort(short_runs_.begin(), short_runs_.end(), shorter);
    std::vector<IntervalRun> all = std::move(short_runs_);
    for (std::size_t t = 0; t < names.size(); ++t) {
      std::vector<IntervalRun> of_type;
      double sum = 0, min = std::numeric_limits<double>::infinity();
      std::uint64_t requests = 0;
      for (std::uint32_t b = 0; b < kTurnBuckets; ++b) {
        const std::size_t c = t * kTurnBuckets + b;
        if (c >= categories_.size() || categories_[c].requests == 0) continue;
        CategoryAccumulator& acc = categories_[c];
        requests += acc.requests;
        std::sort(acc.runs.begin(), acc.runs.end(), shorter);
        of_type = merged(of_type, acc.runs);
        sum += acc.sum;
        min = std::min(min, acc.min);
        CategoryReuse cat;
        cat.category = category_name(names[t], b + 1);
        cat.accesses = acc.accesses;
        cat.interval = interval_stats(acc.runs, acc.sum, acc.min);
        cat.lambda = cat.interval.count > 0 && cat.interval.mean > cat.interval.min ? 1.0 / (cat.interval.mean - cat.interval.min) : kNaN;
        cat.p_reuse = ratio(static_cast<double>(cat.interval.count), static_cast<double>(acc.accesses));
        s.categories.push_back(std::move(cat));
        std::vector<IntervalRun>().swap(acc.runs);  // merged into of_type
      }
      if (requests > 0) s.reuse_by_type.push_back({names[t], interval_stats(of_type, sum, min)});
      all = merged(all, of_type);
    }
    s.reuse_interval = interval_stats(all, interval_sum_, interval_min_);
  }

  Source& source_;
  StatsOptions options_;
  std::uint64_t requests_ = 0;
  double first_arrival_ = 0;
  std::uint64_t gaps_ = 0;
  double gap_mean_ = 0, gap_m2_ = 0;
  U64Map<std::uint32_t> sessions_;
  ReusePartition reuse_;
  // Per request, by ordinal.
  std::vector<double> arrival_;
  std::vector<std::uint32_t> session_;
  std::vector<std::uint32_t> category_;
  std::vector<std::uint32_t> input_, output_;
  std::vector<std::uint32_t> block_count_;  // identities given (0: anonymous blocks)
  std::uint64_t input_sum_ = 0, output_sum_ = 0;
  std::array<std::uint64_t, 5> turn_mix_{};
  std::vector<CategoryAccumulator> categories_;  // by type * kTurnBuckets + turn bucket
  std::uint64_t requested_blocks_ = 0, anonymous_blocks_ = 0, hit_blocks_ = 0, hit_tokens_ = 0;
  std::uint64_t single_turn_hits_ = 0, multi_turn_hits_ = 0, same_session_hits_ = 0;
  std::vector<IntervalRun> short_runs_;
  std::uint64_t short_reuses_ = 0;
  double interval_sum_ = 0;
  double interval_min_ = std::numeric_limits<double>::infinity();
};

// ---- printing ----

std::string number(const char* fmt, double value) {
  if (!std::isfinite(value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

const char* const kTurnLabels[5] = {"1", "2", "3-5", "6-10", ">10"};

}  // namespace

TraceStats compute_trace_stats(Source& source, const StatsOptions& options) {
  return Analyzer(source, options).run();
}

void print_trace_stats_table(std::ostream& out, const TraceStats& s) {
  const auto pct = [](double share) { return number("%.1f", share * 100) + " %"; };
  const auto seconds = [](double v) { return number("%.3f", v); };
  const auto lengths = [&](const char* name, const LengthStats& l) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-8s %10.1f %10.1f %10.1f %10.1f %10.0f\n", name, l.mean, l.p50, l.p90, l.p99, l.max);
    out << line;
  };
  out << "requests      " << s.requests << "   sessions " << s.sessions << "   span " << seconds(s.span) << " s   rate "
      << number("%.3f", s.rate) << " req/s   inter-arrival CV " << number("%.3f", s.interarrival_cv) << '\n';
  out << "tokens            mean        p50        p90        p99        max\n";
  lengths("input", s.input_tokens);
  lengths("output", s.output_tokens);
  out << "types        ";
  for (const auto& [name, share] : s.types) out << ' ' << name << ' ' << pct(share) << ' ';
  out << "\nturns        ";
  for (std::size_t b = 0; b < s.turns.size(); ++b) out << ' ' << kTurnLabels[b] << ": " << pct(s.turns[b]) << ' ';
  out << "\nideal cache   block size " << s.block_size << "   requested blocks " << s.requested_blocks << "   hit blocks "
      << s.hit_blocks << "\n              block hit ratio " << pct(s.ideal_block_hit_ratio) << "   token hit ratio "
      << pct(s.ideal_token_hit_ratio) << '\n';
  out << "reuse         unique blocks " << s.unique_blocks << "   reused " << s.reused_blocks << " ("
      << pct(s.reused_block_fraction) << ")   top 1 % get " << pct(s.top1pct_reuse_share) << ", top 10 % get "
      << pct(s.top10pct_reuse_share) << " of reuses\n";
  out << "hits from     same session " << pct(s.hits_same_session_share) << "   other sessions "
      << pct(s.hits_cross_session_share) << "   single-turn requests " << pct(s.hits_single_turn_share)
      << "   multi-turn " << pct(s.hits_multi_turn_share) << '\n';
  const auto& ri = s.reuse_interval;
  out << "reuse interval (s)   count       mean        p50        p90        p99\n";
  char line[200];
  std::snprintf(line, sizeof line, "  all hits %12llu %10s %10s %10s %10s\n", static_cast<unsigned long long>(ri.count),
                seconds(ri.mean).c_str(), seconds(ri.p50).c_str(), seconds(ri.p90).c_str(), seconds(ri.p99).c_str());
  out << line;
  out << "  by type and category, by the last toucher, intervals >= " << seconds(s.min_reuse) << " s ("
      << s.short_reuses << " shorter hits left out):\n";
  out << "  name                count       mean        p50        min   lambda(1/s)   p_reuse\n";
  for (const auto& t : s.reuse_by_type) {
    std::snprintf(line, sizeof line, "  %-14s %10llu %10s %10s %10s\n", t.type.c_str(),
                  static_cast<unsigned long long>(t.interval.count), seconds(t.interval.mean).c_str(),
                  seconds(t.interval.p50).c_str(), seconds(t.interval.min).c_str());
    out << line;
    for (const auto& c : s.categories) {
      if (c.category.compare(0, t.type.size() + 1, t.type + "_") != 0) continue;
      std::snprintf(line, sizeof line, "    %-12s %10llu %10s %10s %10s %13s %9s\n", c.category.c_str(),
                    static_cast<unsigned long long>(c.interval.count), seconds(c.interval.mean).c_str(),
                    seconds(c.interval.p50).c_str(), seconds(c.interval.min).c_str(), number("%.5f", c.lambda).c_str(),
                    number("%.4f", c.p_reuse).c_str());
      out << line;
    }
  }
  if (!s.report.empty()) {
    out << "source       ";
    for (const auto& [name, n] : s.report) out << ' ' << name << ' ' << n << ' ';
    out << '\n';
  }
}

void print_trace_stats_json(std::ostream& out, const TraceStats& s) {
  const auto u = [](std::uint64_t n) { return std::to_string(n); };
  const auto lengths = [&](const LengthStats& l) {
    return "{\"mean\":" + json_number(l.mean) + ",\"p50\":" + json_number(l.p50) + ",\"p90\":" + json_number(l.p90) +
           ",\"p99\":" + json_number(l.p99) + ",\"max\":" + json_number(l.max) + "}";
  };
  out << "{\"requests\":" << u(s.requests) << ",\"sessions\":" << u(s.sessions) << ",\"span\":" << json_number(s.span)
      << ",\"rate\":" << json_number(s.rate) << ",\"interarrival_cv\":" << json_number(s.interarrival_cv)
      << ",\"input_tokens\":" << lengths(s.input_tokens) << ",\"output_tokens\":" << lengths(s.output_tokens)
      << ",\"types\":{";
  for (std::size_t i = 0; i < s.types.size(); ++i)
    out << (i ? "," : "") << json_quote(s.types[i].first) << ':' << json_number(s.types[i].second);
  out << "},\"turns\":{";
  for (std::size_t b = 0; b < s.turns.size(); ++b)
    out << (b ? "," : "") << json_quote(kTurnLabels[b]) << ':' << json_number(s.turns[b]);
  out << "},\"block_size\":" << s.block_size << ",\"requested_blocks\":" << u(s.requested_blocks)
      << ",\"ideal_block_hit_ratio\":" << json_number(s.ideal_block_hit_ratio)
      << ",\"ideal_token_hit_ratio\":" << json_number(s.ideal_token_hit_ratio)
      << ",\"unique_blocks\":" << u(s.unique_blocks)
      << ",\"reused_block_fraction\":" << json_number(s.reused_block_fraction)
      << ",\"top1pct_reuse_share\":" << json_number(s.top1pct_reuse_share)
      << ",\"top10pct_reuse_share\":" << json_number(s.top10pct_reuse_share);
  const auto& ri = s.reuse_interval;
  out << ",\"reuse_interval\":{\"count\":" << u(ri.count) << ",\"mean\":" << json_number(ri.mean)
      << ",\"p50\":" << json_number(ri.p50) << ",\"p90\":" << json_number(ri.p90) << ",\"p99\":" << json_number(ri.p99)
      << "},\"reuse_interval_by_type\":{";
  for (std::size_t i = 0; i < s.reuse_by_type.size(); ++i) {
    const auto& t = s.reuse_by_type[i];
    out << (i ? "," : "") << json_quote(t.type) << ":{\"count\":" << u(t.interval.count)
        << ",\"p50\":" << json_number(t.interval.p50) << ",\"mean\":" << json_number(t.interval.mean) << '}';
  }
  out << "},\"categories\":{";
  for (std::size_t i = 0; i < s.categories.size(); ++i) {
    const auto& c = s.categories[i];
    out << (i ? "," : "") << json_quote(c.category) << ":{\"count\":" << u(c.interval.count)
        << ",\"mean\":" << json_number(c.interval.mean) << ",\"p50\":" << json_number(c.interval.p50)
        << ",\"min\":" << json_number(c.interval.min) << ",\"lambda\":" << json_number(c.lambda)
        << ",\"p_reuse\":" << json_number(c.p_reuse) << '}';
  }
  out << "},\"hits_same_session_share\":" << json_number(s.hits_same_session_share)
      << ",\"hits_cross_session_share\":" << json_number(s.hits_cross_session_share)
      << ",\"hits_single_turn_share\":" << json_number(s.hits_single_turn_share)
      << ",\"hits_multi_turn_share\":" << json_number(s.hits_multi_turn_share) << ",\"report\":{";
  for (std::size_t i = 0; i < s.report.size(); ++i)
    out << (i ? "," : "") << json_quote(s.report[i].first) << ':' << u(s.report[i].second);
  out << "}}\n";
}

}  // namespace kvsim::workload
