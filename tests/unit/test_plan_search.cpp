// The searches of `kvsim plan` on predicates with known answers (no simulation): the
// answer found, the probes asked (sequence worked out by hand) and the probe budget.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "sim/experiments/plan_search.hpp"

using namespace kvsim::experiments;

TEST_CASE("plan: smallest passing count, probes in the order worked out by hand") {
  // Passes from 5 on: gallop 1, 2, 4 fail, 8 passes; bisect (4, 8]: 6 passes, 5 passes.
  const auto s = smallest_passing(1, 256, [](std::int64_t n) { return n >= 5; });
  REQUIRE(s.smallest);
  CHECK(*s.smallest == 5);
  CHECK(s.probes == std::vector<std::int64_t>{1, 2, 4, 8, 6, 5});
  // The lower end passing costs one probe.
  CHECK(smallest_passing(3, 40, [](std::int64_t) { return true; }).probes == std::vector<std::int64_t>{3});
  // Gallop steps are offsets from LO: 10, 11, 13, 17, 20 (capped at HI); then (17, 20]: 18, 19.
  const auto capped = smallest_passing(10, 20, [](std::int64_t n) { return n >= 20; });
  CHECK(capped.probes == std::vector<std::int64_t>{10, 11, 13, 17, 20, 18, 19});
  CHECK(*capped.smallest == 20);
}

TEST_CASE("plan: every answer in 1..256 is found within 2·log2(256) = 16 probes, none asked twice") {
  for (std::int64_t answer = 1; answer <= 257; ++answer) {
    const auto s = smallest_passing(1, 256, [&](std::int64_t n) { return n >= answer; });
    CHECK(s.probes.size() <= 16);
    CHECK(std::set<std::int64_t>(s.probes.begin(), s.probes.end()).size() == s.probes.size());
    if (answer <= 256) {
      REQUIRE(s.smallest);
      CHECK(*s.smallest == answer);
    } else {
      CHECK(!s.smallest);  // nothing passes: 1, 2, 4, ..., 256 (9 probes)
      CHECK(s.probes.size() == 9);
    }
  }
}

TEST_CASE("plan --max-load: the bracket holds the known saturation rate within the tolerance") {
  const double saturation = 37.3;
  const auto r = highest_passing(1, 100, 0.05, [&](double x) { return x <= saturation; });
  REQUIRE(r.highest_pass);
  REQUIRE(r.lowest_fail);
  CHECK(*r.highest_pass <= saturation);
  CHECK(*r.lowest_fail > saturation);
  CHECK(*r.lowest_fail - *r.highest_pass <= 0.05 * *r.highest_pass);
  // Doubling 1, 2, 4, 8, 16, 32 pass, 64 fails; then bisection of [32, 64]: 48 fail, 40 fail,
  // 36 pass, 38 fail (bracket 36..38 is 5.6 % wide), 37 pass (37..38: 2.7 %).
  CHECK(r.probes == std::vector<double>{1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37});
  CHECK(!highest_passing(1, 100, 0.05, [](double) { return false; }).highest_pass);
  const auto top = highest_passing(1, 100, 0.05, [](double) { return true; });
  CHECK(*top.highest_pass == 100);
  CHECK(!top.lowest_fail);
}
