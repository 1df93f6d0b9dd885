// Tests of kvsim::Rng and the samplers: published test vectors for the hash and generator
// building blocks, and statistical checks with fixed seeds (sample statistics within a few
// standard errors of the exact values derived in the comments).
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sim/util/random.hpp"

using kvsim::Rng;

namespace {

struct Moments {
  double mean = 0.0;
  double variance = 0.0;
};

template <typename Draw>
Moments moments(int n, Draw draw) {
  double sum = 0.0, sum2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = draw();
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n;
  return {mean, (sum2 - n * mean * mean) / (n - 1)};
}

// |observed - expected| within k standard errors of a mean of n draws of variance var.
bool within_se(double observed, double expected, double variance, int n, double k = 4.0) {
  return std::fabs(observed - expected) <= k * std::sqrt(variance / n);
}

constexpr int kDraws = 200'000;

}  // namespace

TEST_CASE("fnv1a64 matches the published FNV-1a 64-bit test vectors") {
  CHECK(kvsim::fnv1a64("") == 0xcbf29ce484222325ULL);  // the offset basis
  CHECK(kvsim::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(kvsim::fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("splitmix64 from state 0 gives the reference sequence and seeds Rng") {
  std::uint64_t state = 0;
  CHECK(kvsim::splitmix64(state) == 0xe220a8397b1dcdafULL);
  CHECK(kvsim::splitmix64(state) == 0x6e789e6aa1b965f4ULL);
  CHECK(kvsim::splitmix64(state) == 0x06c45d188009454fULL);
  // Rng(seed) takes its four state words from splitmix64(seed).
  const Rng rng(0);
  CHECK(rng.state()[0] == 0xe220a8397b1dcdafULL);
  CHECK(rng.state()[1] == 0x6e789e6aa1b965f4ULL);
  CHECK(rng.state()[2] == 0x06c45d188009454fULL);
}

TEST_CASE("xoshiro256** step matches a hand computation") {
  // From state {1,2,3,4}: out = rotl(2*5, 7)*9 = 1280*9 = 11520; the state becomes
  // {7, 0, 262146, rotl(6,45)}, so the next output is rotl(0,7)*9 = 0; then s1 = 262149 and
  // the third output is rotl(262149*5, 7)*9 = 1310745*128*9 = 1509978240.
  Rng rng = Rng::from_state({1, 2, 3, 4});
  CHECK(rng.next_u64() == 11520u);
  CHECK(rng.next_u64() == 0u);
  CHECK(rng.next_u64() == 1509978240u);
  CHECK_THROWS_AS(Rng::from_state({0, 0, 0, 0}), std::invalid_argument);
}

TEST_CASE("uniform01 lies in 0 <= x < 1 with mean 1/2 and variance 1/12") {
  Rng rng(11);
  double lo = 1.0, hi = 0.0;
  const auto m = moments(kDraws, [&] {
    const double u = rng.uniform01();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    return u;
  });
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  CHECK(within_se(m.mean, 0.5, 1.0 / 12.0, kDraws));
  CHECK(m.variance == doctest::Approx(1.0 / 12.0).epsilon(0.01));
}

TEST_CASE("uniform_int covers 0..n-1 evenly") {
  Rng rng(12);
  std::array<int, 3> counts{};
  for (int i = 0; i < kDraws; ++i) {
    const auto k = rng.uniform_int(3);
    REQUIRE(k < 3u);
    ++counts[k];
  }
  for (const int c : counts) CHECK(within_se(static_cast<double>(c) / kDraws, 1.0 / 3.0, 2.0 / 9.0, kDraws));
  for (int i = 0; i < 100; ++i) CHECK(rng.uniform_int(1) == 0u);
  CHECK_THROWS_AS(rng.uniform_int(0), std::invalid_argument);
}

TEST_CASE("exponential(rate 2) has mean 1/2 and P(X > 1) = e^-2") {
  Rng rng(13);
  int above = 0;
  const auto m = moments(kDraws, [&] {
    const double x = rng.exponential(2.0);
    above += x > 1.0;
    return x;
  });
  CHECK(within_se(m.mean, 0.5, 0.25, kDraws));
  const double p = std::exp(-2.0);  // 0.1353
  CHECK(within_se(static_cast<double>(above) / kDraws, p, p * (1 - p), kDraws));
  CHECK_THROWS_AS(rng.exponential(0.0), std::invalid_argument);
}

TEST_CASE("normal has mean 0 and variance 1, and is reproducible") {
  Rng rng(14);
  const auto m = moments(kDraws, [&] { return rng.normal(); });
  CHECK(within_se(m.mean, 0.0, 1.0, kDraws));
  // The sample variance of a normal has variance about 2/n.
  CHECK(std::fabs(m.variance - 1.0) <= 4.0 * std::sqrt(2.0 / kDraws));

  Rng a(99), b(99);
  for (int i = 0; i < 101; ++i) CHECK(a.normal() == b.normal());
}

TEST_CASE("lognormal(1, 0.5) has mean e^1.125 and median e") {
  Rng rng(15);
  int below_median = 0;
  const auto m = moments(kDraws, [&] {
    const double x = rng.lognormal(1.0, 0.5);
    below_median += x < std::exp(1.0);
    return x;
  });
  const double mean = std::exp(1.0 + 0.125);                                // 3.0802
  const double variance = (std::exp(0.25) - 1.0) * std::exp(2.0 + 0.25);  // 2.695
  CHECK(within_se(m.mean, mean, variance, kDraws));
  CHECK(within_se(static_cast<double>(below_median) / kDraws, 0.5, 0.25, kDraws));
  // sigma 0 is the constant exp(mu).
  CHECK(rng.lognormal(std::log(810.0), 0.0) == doctest::Approx(810.0));
}

TEST_CASE("geometric(mean 3) on {1,2,...}: mean 3, variance 6, P(1) = 1/3") {
  Rng rng(16);
  int ones = 0;
  std::uint64_t smallest = 100;
  const auto m = moments(kDraws, [&] {
    const auto k = rng.geometric(3.0);
    smallest = std::min(smallest, k);
    ones += k == 1;
    return static_cast<double>(k);
  });
  CHECK(smallest == 1u);
  CHECK(within_se(m.mean, 3.0, 6.0, kDraws));  // variance (1-p)/p^2 with p = 1/3
  CHECK(within_se(static_cast<double>(ones) / kDraws, 1.0 / 3.0, 2.0 / 9.0, kDraws));
  for (int i = 0; i < 100; ++i) CHECK(rng.geometric(1.0) == 1u);
  CHECK_THROWS_AS(rng.geometric(0.5), std::invalid_argument);
}

TEST_CASE("ZipfSampler probabilities follow 1/(k+1)^s and rank 0 frequency matches") {
  // n = 4, s = 1: H = 1 + 1/2 + 1/3 + 1/4 = 25/12, so P = 12/25, 6/25, 4/25, 3/25.
  const kvsim::ZipfSampler zipf(4, 1.0);
  CHECK(zipf.size() == 4u);
  CHECK(zipf.probability(0) == doctest::Approx(12.0 / 25.0));
  CHECK(zipf.probability(1) == doctest::Approx(6.0 / 25.0));
  CHECK(zipf.probability(2) == doctest::Approx(4.0 / 25.0));
  CHECK(zipf.probability(3) == doctest::Approx(3.0 / 25.0));
  CHECK(zipf.probability(4) == 0.0);

  Rng rng(17);
  std::array<int, 4> counts{};
  for (int i = 0; i < kDraws; ++i) {
    const auto k = zipf.sample(rng);
    REQUIRE(k < 4u);
    ++counts[k];
  }
  const double p0 = 0.48;
  CHECK(within_se(static_cast<double>(counts[0]) / kDraws, p0, p0 * (1 - p0), kDraws));
  const double p3 = 0.12;
  CHECK(within_se(static_cast<double>(counts[3]) / kDraws, p3, p3 * (1 - p3), kDraws));

  // Exponent 0 is uniform.
  const kvsim::ZipfSampler flat(5, 0.0);
  for (std::size_t k = 0; k < 5; ++k) CHECK(flat.probability(k) == doctest::Approx(0.2));
  CHECK_THROWS_AS(kvsim::ZipfSampler(0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(kvsim::ZipfSampler(3, -1.0), std::invalid_argument);
}

TEST_CASE("EmpiricalSampler draws rows uniformly") {
  struct Row {
    int a;
    int b;
  };
  const kvsim::EmpiricalSampler<Row> table({{1, 10}, {2, 20}, {3, 30}, {4, 40}});
  Rng rng(18);
  std::array<int, 4> counts{};
  for (int i = 0; i < kDraws; ++i) {
    const Row& row = table.sample(rng);
    REQUIRE(row.b == 10 * row.a);  // rows come out whole
    ++counts[row.a - 1];
  }
  for (const int c : counts) CHECK(within_se(static_cast<double>(c) / kDraws, 0.25, 0.1875, kDraws));
  CHECK_THROWS_AS(kvsim::EmpiricalSampler<Row>({}), std::invalid_argument);
}

TEST_CASE("Rng::stream: same (seed, name) is identical, other names or seeds differ") {
  Rng a = Rng::stream(7, "workload");
  Rng b = Rng::stream(7, "workload");
  Rng other_name = Rng::stream(7, "router");
  Rng other_seed = Rng::stream(8, "workload");
  int same_name_diff = 0, same_seed_diff = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next_u64();
    CHECK(x == b.next_u64());
    same_name_diff += x != other_name.next_u64();
    same_seed_diff += x != other_seed.next_u64();
  }
  // Independent 64-bit streams agree at a position with probability 2^-64.
  CHECK(same_name_diff == 1000);
  CHECK(same_seed_diff == 1000);
  // The stream is not the plain Rng(seed) stream either.
  Rng plain(7);
  Rng c = Rng::stream(7, "workload");
  CHECK(plain.next_u64() != c.next_u64());
}
