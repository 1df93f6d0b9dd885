// The eviction timer's tie with an arrival (sim/engine/due_evictions.hpp): a request
// arriving exactly when a step of a multi-step plan evicts joins that step, as with one
// step at a time, instead of the timer evicting first and the plan keeping the step.
//
// Set-up, worked by hand: one instance with 24 HBM blocks of 16 tokens and node DRAM (so
// that HBM's evictions are observed and a plan evicts at its steps' starts). C (20 full
// prompt blocks and 1 output token) runs first and leaves its 20 prompt blocks cached. A
// arrives at 1 s with a 15-token prompt (one of the 4 empty blocks) and 60 output tokens:
// after its prefill, one decode plan of 59 steps, step j computing token 16 + j. A takes a
// block for tokens 17, 33, 49 and 65 (steps 1, 17, 33, 49): the 3 empty blocks, then an
// eviction (C's last block, LRU) at the start of step 49. B (C's first 10 blocks plus 5
// tokens, 2 output tokens: 11 blocks, 1 beyond its cached prefix) arrives exactly then.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

config::Scenario scenario_with(bool multi_step) {
  return test::tiny_scenario({"instances.kv_blocks=24", "kvcache.dram.capacity=16GiB",
                              std::string("instances.multi_step=") + (multi_step ? "true" : "false")});
}

}  // namespace

TEST_CASE("eviction timer: an arrival exactly at a step that evicts joins that step") {
  const auto probe = scenario_with(true);
  // The plan's step ends, summed as the engine does (each step's end is its start plus its
  // time): A's prefill from its arrival, then decode step j at prior context 15 + j.
  const double arrival_a = 1.0;
  const double prefill_a = arrival_a + test::step_time(probe, {{0, 15, true}});
  double t = prefill_a;
  for (std::uint64_t j = 0; j < 49; ++j) t += test::step_time(probe, {{15 + j, 1, true}});
  const double step49 = test::step_time(probe, {{15 + 49, 1, true}});
  const std::vector<std::uint64_t> c_blocks = test::contents(1, 20);
  const std::vector<std::uint64_t> b_blocks = test::contents(1, 10);
  const auto requests = [&] {
    return std::vector<workload::Request>{test::make_request(0, 0.0, 20 * 16, 1, c_blocks),
                                          test::make_request(1, arrival_a, 15, 60, test::contents(900, 0)),
                                          test::make_request(2, t, 10 * 16 + 5, 2, b_blocks)};
  };

  auto multi = scenario_with(true);
  const auto out = test::run_with(multi, requests());
  auto single = scenario_with(false);
  const auto reference = test::run_with(single, requests());

  REQUIRE(out.requests.size() == 3);
  REQUIRE(reference.requests.size() == 3);
  const auto& a = out.requests[1];
  const auto& b = out.requests[2];
  REQUIRE(a.status == results::RequestStatus::completed);
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(a.first_token == prefill_a);
  // B's prefill (its 5 uncached tokens) runs in the step starting at t, with A's decode: a
  // step longer than A's alone, shorter than two. Not one step later, at t + step49.
  CHECK(b.first_token > t + step49);
  CHECK(b.first_token < t + 2 * step49);
  // Exactly as one step at a time.
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(out.requests[i].first_token == reference.requests[i].first_token);
    CHECK(out.requests[i].finish == reference.requests[i].finish);
    CHECK(out.requests[i].cached_tokens == reference.requests[i].cached_tokens);
  }
}
