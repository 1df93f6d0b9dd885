// Distributions and arrival processes of the mix spec (documented in distributions.hpp).
#include "workloads/synth/mix/distributions.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>

#include "sim/config/reader.hpp"
#include "workloads/synth/chat.hpp"

namespace kvsim::workload::mix {

namespace {

std::uint32_t clamp_tokens(double x, std::uint32_t max) {
  if (!(x >= 1.0)) return 1;  // also catches NaN
  if (x >= static_cast<double>(max)) return max;
  return std::clamp(static_cast<std::uint32_t>(std::llround(x)), std::uint32_t{1}, max);
}

}  // namespace

double draw_gamma(Rng& rng, double shape, double scale) {
  if (shape < 1.0) {
    const double u = rng.uniform01();
    return draw_gamma(rng, shape + 1.0, scale) * std::pow(u > 0 ? u : 1e-300, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = 0, v = 0;
    do {
      x = rng.normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = rng.uniform01();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
    if (u > 0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
  }
}

double weibull_shape_for_cv(double cv) {
  const auto cv_of = [](double k) {
    const double g1 = std::tgamma(1.0 + 1.0 / k), g2 = std::tgamma(1.0 + 2.0 / k);
    return std::sqrt(std::max(0.0, g2 / (g1 * g1) - 1.0));
  };
  // cv decreases with k; cv(0.1) is about 1.9e2, cv(50) about 0.026.
  double lo = 0.1, hi = 50.0;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (cv_of(mid) > cv ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::uint32_t LengthDist::draw(Rng& rng) const {
  switch (model) {
    case Model::constant: return clamp_tokens(median, max);
    case Model::empirical:
      if (!table) return clamp_tokens(median, max);  // validation pass: the file was not read
      return clamp_tokens((*table)[rng.uniform_int(table->size())], max);
    case Model::pareto_mix:
      if (rng.bernoulli(tail_share)) {
        const double u = 1.0 - rng.uniform01();  // in (0, 1]
        return clamp_tokens(tail_min * std::pow(u, -1.0 / tail_alpha), max);
      }
      [[fallthrough]];
    case Model::lognormal: break;
  }
  return clamp_tokens(rng.lognormal(std::log(median), sigma), max);
}

LengthDist parse_length(config::Section& parent, const std::string& key, const LengthDist& d, const std::string& what,
                        const std::optional<std::string>& base_dir) {
  using config::Range;
  config::Section s = parent.table(key);
  static const std::vector<std::string> models{"lognormal", "pareto_mix", "empirical", "constant"};
  static const char* names[] = {"lognormal", "pareto_mix", "empirical", "constant"};
  LengthDist l = d;
  const std::string model = s.choice("model", names[static_cast<int>(d.model)], models,
                                     "Distribution of " + what + " (tokens).");
  l.model = static_cast<LengthDist::Model>(std::find(models.begin(), models.end(), model) - models.begin());
  l.median = s.number("median", d.median, "Median of the log-normal body in tokens (constant: the value).",
                      Range::at_least(1.0));
  l.sigma = s.number("sigma", d.sigma, "Log-normal sigma of the body.", Range::non_negative());
  l.tail_share = s.number("tail_share", d.tail_share, "pareto_mix: probability of drawing from the Pareto tail.",
                          Range::fraction());
  l.tail_alpha = s.number("tail_alpha", d.tail_alpha, "pareto_mix: Pareto tail index (> 0; < 2 = infinite variance).",
                          Range::positive());
  l.tail_min = s.number("tail_min", d.tail_min, "pareto_mix: smallest tail value in tokens.", Range::at_least(1.0));
  l.max = static_cast<std::uint32_t>(s.integer("max", d.max, "Largest value in tokens (draws are clamped).", 1,
                                               std::int64_t{1} << 30));
  const std::string file = s.text("file", "", "empirical: CSV of token counts (read like chat's lengths_file); "
                                              "relative paths are resolved against the spec's directory.");
  static const std::vector<std::string> columns{"input_tokens", "output_tokens"};
  const std::string column =
      s.choice("column", "input_tokens", columns, "empirical: which column of the CSV to draw from.");
  if (l.model == LengthDist::Model::empirical) {
    if (file.empty()) s.fail("file", "model = \"empirical\" needs a CSV file of token counts");
    if (!base_dir) {
      s.finish();
      return l;
    }
    std::filesystem::path path(file);
    if (path.is_relative() && !base_dir->empty()) path = std::filesystem::path(*base_dir) / path;
    auto values = std::make_shared<std::vector<std::uint32_t>>();
    for (const auto& row : read_length_table(path.string()))
      values->push_back(column == "input_tokens" ? row.input_tokens : row.output_tokens);
    l.table = std::move(values);
  }
  s.finish();
  return l;
}

double TimeDist::draw(Rng& rng) const {
  switch (model) {
    case Model::constant: return mean;
    case Model::uniform: return rng.uniform(min, max);
    case Model::lognormal:
      // mean = exp(mu + sigma^2 / 2)
      return rng.lognormal(std::log(mean) - 0.5 * sigma * sigma, sigma);
    case Model::exponential: break;
  }
  return mean > 0 ? rng.exponential(1.0 / mean) : 0.0;
}

TimeDist parse_time(config::Section& parent, const std::string& key, const TimeDist& d, const std::string& what) {
  using config::Dimension;
  using config::Range;
  config::Section s = parent.table(key);
  static const std::vector<std::string> models{"exponential", "lognormal", "uniform", "constant"};
  static const char* names[] = {"exponential", "lognormal", "uniform", "constant"};
  TimeDist t = d;
  const std::string model =
      s.choice("model", names[static_cast<int>(d.model)], models, "Distribution of " + what + ".");
  t.model = static_cast<TimeDist::Model>(std::find(models.begin(), models.end(), model) - models.begin());
  t.mean = s.quantity("mean", Dimension::time, d.mean, "Mean (exponential, lognormal) or value (constant).");
  t.sigma = s.number("sigma", d.sigma, "lognormal: sigma of the log.", Range::non_negative());
  t.min = s.quantity("min", Dimension::time, d.min, "uniform: lower bound.");
  t.max = s.quantity("max", Dimension::time, d.max, "uniform: upper bound.");
  if (t.model == TimeDist::Model::uniform && t.max < t.min) s.fail("max", "expected max >= min");
  s.finish();
  return t;
}

double Diurnal::factor(double t) const {
  if (amplitude == 0.0) return 1.0;
  return 1.0 + amplitude * std::sin(2.0 * std::numbers::pi * t / period + phase);
}

ProcessSpec parse_process(config::Section& s, const ProcessSpec& d, const std::string& what) {
  using config::Dimension;
  using config::Range;
  static const std::vector<std::string> models{"poisson", "gamma", "weibull", "onoff"};
  static const char* names[] = {"poisson", "gamma", "weibull", "onoff"};
  ProcessSpec p = d;
  const std::string model = s.choice("process", names[static_cast<int>(d.model)], models,
                                     "Arrival process of " + what + " (renewal gaps; onoff = Poisson during "
                                     "exponential on periods).");
  p.model = static_cast<ProcessSpec::Model>(std::find(models.begin(), models.end(), model) - models.begin());
  p.cv = s.number("cv", d.cv, "gamma, weibull: coefficient of variation of the gaps (> 1 = bursty).",
                  Range::between(0.05, 50.0));
  p.on_mean = s.quantity("on_mean", Dimension::time, d.on_mean, "onoff: mean on period.", Range::positive());
  p.off_mean = s.quantity("off_mean", Dimension::time, d.off_mean, "onoff: mean off period.");
  return p;
}

ArrivalClock::ArrivalClock(const ProcessSpec& spec, double rate, const Diurnal& diurnal, double start)
    : spec_(spec), rate_(rate * (1.0 + diurnal.amplitude)), diurnal_(diurnal), time_(start) {
  if (spec_.model == ProcessSpec::Model::weibull) {
    weibull_k_ = weibull_shape_for_cv(spec_.cv);
    weibull_scale_ = 1.0 / (rate_ * std::tgamma(1.0 + 1.0 / weibull_k_));
  }
}

double ArrivalClock::gap(Rng& rng) {
  switch (spec_.model) {
    case ProcessSpec::Model::gamma: {
      const double shape = 1.0 / (spec_.cv * spec_.cv);
      return draw_gamma(rng, shape, 1.0 / (rate_ * shape));
    }
    case ProcessSpec::Model::weibull: {
      const double u = 1.0 - rng.uniform01();
      return weibull_scale_ * std::pow(-std::log(u), 1.0 / weibull_k_);
    }
    case ProcessSpec::Model::onoff: {
      const double duty = spec_.on_mean / (spec_.on_mean + spec_.off_mean);
      const double start = time_;
      double t = time_;
      if (on_until_ < 0) on_until_ = t + rng.exponential(1.0 / spec_.on_mean);
      while (true) {
        const double candidate = t + rng.exponential(rate_ / duty);
        if (candidate <= on_until_) return candidate - start;
        // Memoryless: the rest of the gap restarts at the next on period.
        t = on_until_ + (spec_.off_mean > 0 ? rng.exponential(1.0 / spec_.off_mean) : 0.0);
        on_until_ = t + rng.exponential(1.0 / spec_.on_mean);
      }
    }
    case ProcessSpec::Model::poisson: break;
  }
  return rng.exponential(rate_);
}

double ArrivalClock::next(Rng& rng) {
  while (true) {
    time_ += gap(rng);
    if (diurnal_.amplitude == 0.0 || rng.uniform01() * (1.0 + diurnal_.amplitude) < diurnal_.factor(time_))
      return time_;
  }
}

}  // namespace kvsim::workload::mix
