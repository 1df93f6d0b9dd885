// Building blocks of the `mix` workload spec (workloads/synth/mix/mix.hpp): token length
// distributions, time distributions (think times, tool-call gaps), renewal arrival
// processes with a given coefficient of variation, and the diurnal rate modulation. Each
// is read from a TOML sub-table through config::Section, so every field is documented by
// `kvsim describe workload.mix` and validated with file, line and key.
//
// Lengths (tokens, clamped to [1, max]):
//   lognormal   median, sigma                           (body of most LLM length data)
//   pareto_mix  lognormal body (median, sigma) with probability 1 - tail_share, else a
//               Pareto tail tail_min * U^(-1/tail_alpha)  (heavy tails of long documents,
//               as in the Bailian and BurstGPT length distributions)
//   empirical   a column (input_tokens or output_tokens) of a CSV read by
//               read_length_table, drawn uniformly
//   constant    value
// Times (seconds): exponential (mean), lognormal (mean, sigma), uniform (min, max), constant.
// Arrival processes at rate r (per second): poisson; gamma and weibull renewal processes
// with coefficient of variation cv of the gaps (cv > 1 = bursty); onoff: Poisson at rate
// r / duty during exponential "on" periods (mean on_mean) separated by exponential "off"
// periods (mean off_mean), duty = on_mean / (on_mean + off_mean).
// Diurnal modulation (Lewis & Shedler thinning, Naval Res. Logistics Q. 1979): the base
// process runs at r * (1 + amplitude) and an arrival at time t is kept with probability
// m(t) / (1 + amplitude), m(t) = 1 + amplitude * sin(2 pi t / period + phase), so the
// instantaneous rate is r * m(t).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/util/random.hpp"

namespace kvsim::config {
class Section;
}

namespace kvsim::workload::mix {

// Gamma(shape, scale) by Marsaglia & Tsang (ACM TOMS 2000); shape < 1 via the
// Gamma(shape + 1) * U^(1/shape) boost.
double draw_gamma(Rng& rng, double shape, double scale);
// Weibull shape k whose coefficient of variation is cv (bisection on the Gamma-function
// formula cv^2 = G(1 + 2/k) / G(1 + 1/k)^2 - 1).
double weibull_shape_for_cv(double cv);

struct LengthDist {
  enum class Model { lognormal, pareto_mix, empirical, constant };
  Model model = Model::lognormal;
  double median = 100;  // lognormal body median, tokens (constant: the value)
  double sigma = 1.0;
  double tail_share = 0.0;   // pareto_mix: probability of the tail
  double tail_alpha = 1.5;   // pareto_mix: tail index
  double tail_min = 4096;    // pareto_mix: tail scale (smallest tail value), tokens
  std::uint32_t max = 1u << 20;
  std::shared_ptr<const std::vector<std::uint32_t>> table;  // empirical column

  std::uint32_t draw(Rng& rng) const;
  static LengthDist lognormal(double median, double sigma) {
    LengthDist l;
    l.median = median;
    l.sigma = sigma;
    return l;
  }
};

// Reads the sub-table `key` of section as a LengthDist with fallback d. base_dir: where
// relative CSV paths are resolved; nullopt = check the keys but do not read the file.
LengthDist parse_length(config::Section& section, const std::string& key, const LengthDist& d,
                        const std::string& what, const std::optional<std::string>& base_dir);

struct TimeDist {
  enum class Model { exponential, lognormal, uniform, constant };
  Model model = Model::exponential;
  double mean = 30;   // s (exponential, lognormal, constant)
  double sigma = 1;   // lognormal
  double min = 1;     // s, uniform
  double max = 5;     // s, uniform
  double draw(Rng& rng) const;
};

TimeDist parse_time(config::Section& section, const std::string& key, const TimeDist& d, const std::string& what);

struct Diurnal {
  double amplitude = 0;   // 0 = none; in [0, 1]
  double period = 86400;  // s
  double phase = 0;       // rad
  double factor(double t) const;  // m(t)
};

struct ProcessSpec {
  enum class Model { poisson, gamma, weibull, onoff };
  Model model = Model::poisson;
  double cv = 1;           // gamma, weibull
  double on_mean = 10;     // s, onoff
  double off_mean = 30;    // s, onoff
};

// Reads process, cv, on_mean, off_mean from section itself (flat keys).
ProcessSpec parse_process(config::Section& section, const ProcessSpec& d, const std::string& what);

// One arrival stream: the base process at rate * (1 + amplitude), thinned by the diurnal
// factor. next() returns successive arrival times.
class ArrivalClock {
 public:
  ArrivalClock() = default;
  ArrivalClock(const ProcessSpec& spec, double rate, const Diurnal& diurnal, double start = 0.0);
  double next(Rng& rng);

 private:
  double gap(Rng& rng);
  ProcessSpec spec_;
  double rate_ = 1;       // base rate including the thinning headroom
  Diurnal diurnal_;
  double time_ = 0;
  double weibull_k_ = 1, weibull_scale_ = 1;
  double on_until_ = -1;  // onoff: end of the current on period
};

}  // namespace kvsim::workload::mix
