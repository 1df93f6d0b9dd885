// HBM pressure: more KV demand than the instance's pool must still complete every
// request, by preempting (and later recomputing) the most recently admitted requests.
#include <doctest/doctest.h>

#include <numeric>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

TEST_CASE("KV demand beyond HBM completes every request with preemptions counted") {
  // 64 blocks of 16 tokens = 1024 tokens of KV. 24 requests of 300 + 200 tokens arriving
  // within 0.24 s need 500 tokens each at their peak: at most two fit at once.
  auto scenario = test::tiny_scenario({"instances.kv_blocks=64"});
  std::vector<workload::Request> requests;
  for (std::uint64_t i = 0; i < 24; ++i) {
    std::vector<std::uint64_t> contents(19);
    std::iota(contents.begin(), contents.end(), 100 * i);  // distinct prompts
    requests.push_back(test::make_request(i, 0.01 * double(i), 300, 200, contents));
  }
  auto out = test::run_with(scenario, requests);
  REQUIRE(out.requests.size() == 24);
  std::uint64_t preemptions = 0;
  for (const auto& r : out.requests) {
    CHECK(r.status == results::RequestStatus::completed);
    CHECK(r.finish > r.first_token);
    preemptions += r.preemptions;
  }
  CHECK(preemptions > 0);
  const auto summary = results::summarize(out.requests, out.sim_duration, 1.0);
  CHECK(summary.preemptions == preemptions);
  CHECK(summary.completed == 24);
}

TEST_CASE("a request that can never fit the KV pool is rejected, the others complete") {
  auto scenario = test::tiny_scenario({"instances.kv_blocks=8"});  // 128 tokens
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 100, 10, {1, 2, 3, 4, 5, 6, 7}),
                                       test::make_request(1, 0.1, 120, 20, {9, 10, 11, 12, 13, 14, 15, 16})});
  CHECK(out.requests[0].status == results::RequestStatus::completed);
  // 120 + 20 - 1 = 139 tokens need 9 blocks > 8.
  CHECK(out.requests[1].status == results::RequestStatus::rejected);
}
