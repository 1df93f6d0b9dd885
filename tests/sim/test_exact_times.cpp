// Exact simulated times on a one-instance platform, derived from the roofline step times:
// the simulator must add nothing and lose nothing between steps.
#include <doctest/doctest.h>

#include <numeric>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;
using test::SeqShape;

TEST_CASE("a lone request: TTFT is its prefill step, E2E the sum of its steps") {
  auto scenario = test::tiny_scenario();
  const std::uint32_t input = 1000, output = 50;
  const double arrival = 0.5;
  auto out = test::run_with(scenario, {test::make_request(0, arrival, input, output, test::contents(1, 63))});
  REQUIRE(out.requests.size() == 1);
  const auto& r = out.requests[0];
  CHECK(r.status == results::RequestStatus::completed);

  // Prefill: one step computing all 1000 prompt tokens (budget 8192) and sampling token 1.
  const double prefill = test::step_time(scenario, {{0, input, true}});
  CHECK(r.ttft == doctest::Approx(prefill).epsilon(1e-9));
  // Decode step j (j = 1..49) computes the KV of token input+j-1 and samples token j+1.
  double e2e = prefill;
  for (std::uint32_t j = 1; j < output; ++j) e2e += test::step_time(scenario, {{input + j - 1, 1, true}});
  CHECK(r.e2e == doctest::Approx(e2e).epsilon(1e-9));
  CHECK(r.finish == doctest::Approx(arrival + e2e).epsilon(1e-9));
  CHECK(r.tpot == doctest::Approx((e2e - prefill) / (output - 1)).epsilon(1e-9));
  CHECK(r.cached_tokens == 0);
  CHECK(out.sim_duration == doctest::Approx(arrival + e2e).epsilon(1e-9));
}

TEST_CASE("a lone request's TTFT is the roofline prefill time plus the per-step overhead") {
  // (One simulation per test case: SimGrid's clock does not reset within a process.)
  auto scenario = test::tiny_scenario({"compute.step_overhead=5ms"});
  const auto no_overhead = test::tiny_scenario({"compute.step_overhead=0"});
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 1024, 1, test::contents(1, 64))});
  CHECK(out.requests[0].ttft == doctest::Approx(test::step_time(no_overhead, {{0, 1024, true}}) + 5e-3).epsilon(1e-9));
  // One output token: the request finishes with its prefill.
  CHECK(out.requests[0].e2e == out.requests[0].ttft);
}

TEST_CASE("chunked prefill: TTFT is the sum of the chunk steps") {
  auto scenario = test::tiny_scenario({"instances.max_num_batched_tokens=512"});
  // 1300 tokens in chunks of 512, 512, 276.
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 1300, 2, test::contents(1, 82))});
  const double expected = test::step_time(scenario, {{0, 512, false}}) + test::step_time(scenario, {{512, 512, false}}) +
                          test::step_time(scenario, {{1024, 276, true}});
  CHECK(out.requests[0].ttft == doctest::Approx(expected).epsilon(1e-9));
}

namespace {
// Both prompts start with the same 40 blocks (640 tokens); B then diverges and ends with a
// partial block. B arrives long after A has finished.
std::vector<workload::Request> shared_prefix_pair() {
  std::vector<std::uint64_t> a = test::contents(1, 60), b = test::contents(1, 40);
  for (std::uint64_t c = 1000; c < 1025; ++c) b.push_back(c);
  return {test::make_request(0, 0.0, 60 * 16, 10, a), test::make_request(1, 100.0, 64 * 16 + 7, 10, b)};
}
}  // namespace

TEST_CASE("two requests sharing a prefix far apart: the second prefills only the rest") {
  auto scenario = test::tiny_scenario();
  auto out = test::run_with(scenario, shared_prefix_pair());
  REQUIRE(out.requests.size() == 2);
  CHECK(out.requests[0].cached_tokens == 0);
  CHECK(out.requests[1].cached_tokens == 40 * 16);
  const double rest = test::step_time(scenario, {{640, 64 * 16 + 7 - 640, true}});
  CHECK(out.requests[1].ttft == doctest::Approx(rest).epsilon(1e-9));
}

TEST_CASE("without prefix caching the second request of a shared pair computes its whole prompt") {
  auto scenario = test::tiny_scenario({"instances.prefix_caching=false"});
  auto out = test::run_with(scenario, shared_prefix_pair());
  CHECK(out.requests[1].cached_tokens == 0);
  CHECK(out.requests[1].ttft == doctest::Approx(test::step_time(scenario, {{0, 64 * 16 + 7, true}})).epsilon(1e-9));
}

TEST_CASE("a request arriving exactly at a step end joins the step that starts there") {
  auto scenario = test::tiny_scenario();
  const double prefill_a = test::step_time(scenario, {{0, 512, true}});
  // B arrives at the instant A's prefill ends: the next step batches A's first decode with
  // B's whole prefill.
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 512, 3, test::contents(1, 32)),
                                       test::make_request(1, prefill_a, 256, 3, test::contents(500, 16))});
  const double joint = test::step_time(scenario, {{512, 1, true}, {0, 256, true}});
  CHECK(out.requests[0].ttft == doctest::Approx(prefill_a).epsilon(1e-12));
  CHECK(out.requests[1].first_token == doctest::Approx(prefill_a + joint).epsilon(1e-12));
}

TEST_CASE("an arrival during a multi-step decode run joins at the next step boundary") {
  auto scenario = test::tiny_scenario();
  const double prefill_a = test::step_time(scenario, {{0, 512, true}});
  const double decode1 = test::step_time(scenario, {{512, 1, true}});
  const double decode2 = test::step_time(scenario, {{513, 1, true}});
  // B arrives in the middle of A's second decode step: it is scheduled when that step ends.
  const double arrival_b = prefill_a + decode1 + 0.5 * decode2;
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 512, 100, test::contents(1, 32)),
                                       test::make_request(1, arrival_b, 256, 3, test::contents(500, 16))});
  const double boundary = prefill_a + decode1 + decode2;
  const double joint = test::step_time(scenario, {{514, 1, true}, {0, 256, true}});
  CHECK(out.requests[1].first_token == doctest::Approx(boundary + joint).epsilon(1e-12));
}
