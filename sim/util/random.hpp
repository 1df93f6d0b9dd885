// Random numbers for kvsim: one small generator and the distributions the models need,
// written here rather than taken from <random> because the standard distributions are
// implementation-defined, and a run must give the same stream with libstdc++, libc++ or
// MSVC. The generator is xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
// number generators", ACM TOMS 2021), seeded through splitmix64 as its authors recommend.
//
// Every component draws from its own stream, derived from (run seed, component name) with
// Rng::stream, so adding draws in one component never shifts another component's numbers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace kvsim {

// splitmix64 (Steele, Lea & Flood, OOPSLA 2014): advances state and returns the next output.
std::uint64_t splitmix64(std::uint64_t& state);
// The splitmix64 output function alone: a stateless 64-bit bijective mixer. Inline and
// constexpr: block identities are chained through it (workload::chain_block) per block.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
// FNV-1a 64-bit hash of the bytes of text (stable across platforms and runs).
std::uint64_t fnv1a64(std::string_view text);

class Rng {
 public:
  // The four state words are the first four splitmix64 outputs from seed.
  explicit Rng(std::uint64_t seed = 0);

  // An independent stream for one component of a run: the seed is mixed with the
  // splitmix'd FNV-1a hash of the name, so ("workload", 7) and ("router", 7) differ and
  // each is the same in every run with seed 7.
  static Rng stream(std::uint64_t seed, std::string_view component);
  // A generator in an exact state (tests, checkpoints). The all-zero state is invalid.
  static Rng from_state(const std::array<std::uint64_t, 4>& state);

  std::uint64_t next_u64();
  // Uniform in [0, 1), 53 random bits.
  double uniform01();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Uniform integer in [0, n), unbiased (rejection); n must be > 0.
  std::uint64_t uniform_int(std::uint64_t n);
  bool bernoulli(double p) { return uniform01() < p; }
  // Exponential with the given rate (mean 1/rate); rate must be > 0, +inf gives 0.
  double exponential(double rate);
  // Standard normal, Marsaglia's polar method: it needs only log and sqrt (no sin/cos),
  // and the second value of each pair is kept for the next call.
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // exp(N(mu, sigma^2)); the median is exp(mu).
  double lognormal(double mu, double sigma);
  // Geometric on {1, 2, ...} with the given mean (>= 1), i.e. success probability 1/mean.
  std::uint64_t geometric(double mean);

  const std::array<std::uint64_t, 4>& state() const { return s_; }

 private:
  std::array<std::uint64_t, 4> s_{};
  double spare_normal_ = 0.0;
  bool has_spare_normal_ = false;
};

// Ranks 0..n-1 with P(k) proportional to 1 / (k+1)^exponent (rank 0 most popular);
// exponent 0 is uniform. Precomputed CDF, one uniform and a binary search per draw.
class ZipfSampler {
 public:
  ZipfSampler(std::size_t n, double exponent);
  std::size_t sample(Rng& rng) const;
  double probability(std::size_t rank) const;
  std::size_t size() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;  // cdf_[k] = P(rank <= k), cdf_.back() == 1 exactly
};

// Draws rows of a table uniformly (e.g. (input, output) token pairs of a real trace), so a
// synthetic stream keeps the joint distribution of the columns.
template <typename Row>
class EmpiricalSampler {
 public:
  explicit EmpiricalSampler(std::vector<Row> rows) : rows_(std::move(rows)) {
    if (rows_.empty()) throw std::invalid_argument("EmpiricalSampler: empty table");
  }
  const Row& sample(Rng& rng) const { return rows_[rng.uniform_int(rows_.size())]; }
  std::size_t size() const { return rows_.size(); }
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
};

}  // namespace kvsim
