// xoshiro256** + splitmix64 seeding and kvsim's own distributions (see random.hpp for why
// they are not the <random> ones). The algorithms are those published by their authors;
// the code is ours.
#include "sim/util/random.hpp"

#include <algorithm>
#include <cmath>

namespace kvsim {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  return mix64(state);
}

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV offset basis
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV prime
  }
  return h;
}

Rng::Rng(std::uint64_t seed) {
  std::uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64(sm);
}

Rng Rng::stream(std::uint64_t seed, std::string_view component) {
  // mix64 is a bijection, so distinct seeds give distinct stream seeds for one name; the
  // offset keeps seed 0 from feeding 0 into the mixer.
  const std::uint64_t name_hash = mix64(fnv1a64(component));
  return Rng(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ name_hash);
}

Rng Rng::from_state(const std::array<std::uint64_t, 4>& state) {
  if (state[0] == 0 && state[1] == 0 && state[2] == 0 && state[3] == 0)
    throw std::invalid_argument("Rng::from_state: the all-zero state is a fixed point of xoshiro256**");
  Rng rng;
  rng.s_ = state;
  return rng;
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform01() {
  // The top 53 bits are the best ones of xoshiro256** and fill a double's mantissa exactly.
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

std::uint64_t Rng::uniform_int(std::uint64_t n) {
  if (n == 0) throw std::invalid_argument("Rng::uniform_int: n must be > 0");
  // Reject the low 2^64 mod n values so every residue is equally likely.
  const std::uint64_t threshold = (0 - n) % n;
  while (true) {
    const std::uint64_t x = next_u64();
    if (x >= threshold) return x % n;
  }
}

double Rng::exponential(double rate) {
  if (!(rate > 0.0)) throw std::invalid_argument("Rng::exponential: rate must be > 0");
  // 1 - u lies in (0, 1], so the log is finite.
  return -std::log1p(-uniform01()) / rate;
}

double Rng::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double x, y, r2;
  do {
    x = 2.0 * uniform01() - 1.0;
    y = 2.0 * uniform01() - 1.0;
    r2 = x * x + y * y;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double scale = std::sqrt(-2.0 * std::log(r2) / r2);
  spare_normal_ = y * scale;
  has_spare_normal_ = true;
  return x * scale;
}

double Rng::lognormal(double mu, double sigma) {
  if (!(sigma >= 0.0)) throw std::invalid_argument("Rng::lognormal: sigma must be >= 0");
  // sigma 0 is a constant; skipping the draw keeps it exactly exp(mu).
  if (sigma == 0.0) return std::exp(mu);
  return std::exp(mu + sigma * normal());
}

std::uint64_t Rng::geometric(double mean) {
  if (!(mean >= 1.0)) throw std::invalid_argument("Rng::geometric: mean must be >= 1");
  if (mean == 1.0) return 1;
  // Inversion: the number of trials up to the first success is 1 + floor(ln(1-u) / ln(1-p)).
  const double p = 1.0 / mean;
  const double k = std::floor(std::log1p(-uniform01()) / std::log1p(-p));
  constexpr double cap = 9007199254740992.0;  // 2^53: far beyond any sensible count
  return 1 + static_cast<std::uint64_t>(std::min(k, cap));
}

ZipfSampler::ZipfSampler(std::size_t n, double exponent) {
  if (n == 0) throw std::invalid_argument("ZipfSampler: n must be > 0");
  if (!(exponent >= 0.0) || !std::isfinite(exponent))
    throw std::invalid_argument("ZipfSampler: exponent must be finite and >= 0");
  cdf_.resize(n);
  double total = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    total += std::pow(static_cast<double>(k + 1), -exponent);
    cdf_[k] = total;
  }
  for (auto& c : cdf_) c /= total;
  cdf_.back() = 1.0;  // rounding must not leave a gap above the last rank
}

std::size_t ZipfSampler::sample(Rng& rng) const {
  const double u = rng.uniform01();
  // First rank whose cumulative probability exceeds u; u < 1 == cdf_.back() bounds it.
  return static_cast<std::size_t>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
}

double ZipfSampler::probability(std::size_t rank) const {
  if (rank >= cdf_.size()) return 0.0;
  return rank == 0 ? cdf_[0] : cdf_[rank] - cdf_[rank - 1];
}

}  // namespace kvsim
