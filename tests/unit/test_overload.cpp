// The overload rule on synthetic waits whose trend is known: a stable queue (waits that do
// not trend), a backlog growing at a known rate, a ramp too small to count, and too few
// requests to judge.
#include <doctest/doctest.h>

#include "sim/results/overload.hpp"

using kvsim::results::OverloadDetector;

TEST_CASE("overload: stable waits are not flagged") {
  OverloadDetector d;
  // 400 requests, one every 0.25 s, waits alternating 0.1 s and 0.3 s: medians 0.1 in every quarter.
  for (int i = 0; i < 400; ++i) d.add(i * 0.25, i % 2 ? 0.3 : 0.1);
  const auto v = d.finish(100.0);
  CHECK(v.judged);
  CHECK_FALSE(v.overloaded);
  CHECK(v.growth == 0);
  CHECK(v.explanation.starts_with("stable"));
}

TEST_CASE("overload: a backlog growing by 0.2 s per s of arrivals is flagged with that growth") {
  OverloadDetector d;
  // Arrivals at t = i (i = 0..99), wait 0.5 + 0.2 t. Quarters of 25: median arrivals (lower
  // median) 12 and 87, waits 2.9 and 17.9: growth 15 / 75 = 0.2.
  for (int i = 0; i < 100; ++i) d.add(i, 0.5 + 0.2 * i);
  const auto v = d.finish(200.0);
  CHECK(v.overloaded);
  CHECK(v.growth == doctest::Approx(0.2));
  CHECK(v.first_wait == doctest::Approx(2.9));
  CHECK(v.last_wait == doctest::Approx(17.9));
  CHECK(v.explanation.starts_with("OVERLOADED"));
}

TEST_CASE("overload: requests that never got a token wait until the end of the run") {
  OverloadDetector d;
  // First half served at once (wait 0.1 s); the second half never served before t = 100:
  // last-quarter waits 100 - arrival, arrivals 75..99, lower median 87: wait 13.
  for (int i = 0; i < 100; ++i) d.add(i, i < 50 ? 0.1 : -1.0);
  const auto v = d.finish(100.0);
  CHECK(v.last_wait == doctest::Approx(13.0));
  CHECK(v.growth == doctest::Approx((13.0 - 0.1) / 75));
  CHECK(v.overloaded);
}

TEST_CASE("overload: a small trend (2 % per s) or a trend that does not grow the wait by half is not flagged") {
  OverloadDetector slow;
  for (int i = 0; i < 100; ++i) slow.add(i, 1.0 + 0.02 * i);
  CHECK_FALSE(slow.finish(100).overloaded);
  // Growth 0.1 s per s, but from a wait of 100 s: the last quarter's median (108.7) is not
  // 1.5 x the first's (101.2).
  OverloadDetector big_base;
  for (int i = 0; i < 100; ++i) big_base.add(i, 100.0 + 0.1 * i);
  const auto v = big_base.finish(300);
  CHECK(v.growth == doctest::Approx(0.1));
  CHECK_FALSE(v.overloaded);
}

TEST_CASE("overload: fewer than 40 requests are not judged") {
  OverloadDetector d;
  for (int i = 0; i < 39; ++i) d.add(i, 10.0 * i);
  const auto v = d.finish(1000);
  CHECK_FALSE(v.judged);
  CHECK_FALSE(v.overloaded);
}
