// Requests longer than the model's context are rejected at arrival, as vLLM refuses them;
// requests exactly at the limit run.
#include <doctest/doctest.h>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

TEST_CASE("a request whose prompt plus output exceeds max_context is rejected, one at the limit completes") {
  auto scenario = test::tiny_scenario({"model.spec.max_context=512"});
  // 400 + 112 = 512 tokens: at the limit. 400 + 113 = 513: one too many.
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 400, 112, {1, 2, 3, 4, 5}),
                                       test::make_request(1, 0.1, 400, 113, {9, 10, 11, 12, 13})});
  REQUIRE(out.requests.size() == 2);
  CHECK(out.requests[0].status == results::RequestStatus::completed);
  CHECK(out.requests[1].status == results::RequestStatus::rejected);
}
