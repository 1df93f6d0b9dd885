// Writes to lower tiers (sim/engine/transfer_service.hpp) complete without waking their
// instance, and are still accounted on their links with their exact duration.
//
// Set-up: one instance, the node's DRAM takes each finished prompt (admission = completion,
// a write-through over the GPU's PCIe link, GPU -> CPU). A has a 40-block prompt and 2
// output tokens; B, arriving with it, a 15-token prompt (no full block: nothing to write)
// and 200 output tokens. Once A has
// finished (after 2 steps) B decodes alone in one multi-step plan, during which A's
// write-through (40 blocks, ~1.3 ms; a decode step takes several ms) ends. The same run
// with admission = demotion (nothing is ever evicted here) writes nothing: both runs must
// wait the same number of times and give the same request records.
#include <doctest/doctest.h>

#include <string>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

constexpr double kPcie = 64e9;     // H100-SXM card: PCIe Gen5 x16 per direction
constexpr double kLatency = 2e-6;  // dgx-h100 card: PCIe latency

config::Scenario scenario_with(const std::string& admission) {
  return test::tiny_scenario({"kvcache.dram.capacity=16GiB", "kvcache.dram.admission=" + admission,
                              "kvcache.transfer_efficiency=1"});
}

std::vector<workload::Request> a_and_b() {
  return {test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40)),
          test::make_request(1, 0.0, 15, 200, test::contents(500, 1))};
}

// The bytes and busy time of the links whose name contains `part`.
std::pair<double, double> link_totals(const engine::RunOutput& out, const std::string& part) {
  double bytes = 0, busy = 0;
  for (const auto& link : out.links)
    if (std::string(link.name).find(part) != std::string::npos) {
      bytes += link.bytes;
      busy += link.busy;
    }
  return {bytes, busy};
}

}  // namespace

TEST_CASE("write wakes: a write-through ending during a plan wakes nobody and is accounted") {
  auto writing = scenario_with("completion");
  const auto with_write = test::run_with(writing, a_and_b());
  auto quiet = scenario_with("demotion");
  const auto without = test::run_with(quiet, a_and_b());

  REQUIRE(with_write.requests.size() == 2);
  const auto& a = with_write.requests[0];
  const auto& b = with_write.requests[1];
  REQUIRE(a.status == results::RequestStatus::completed);
  REQUIRE(b.status == results::RequestStatus::completed);
  const double bytes = 40 * 16 * writing.model.kv_bytes_per_token();
  const double write = bytes / kPcie + kLatency;
  // The write ends while B still decodes, long before the run does.
  REQUIRE(a.finish + write < b.finish);
  CHECK(with_write.sim_duration == b.finish);

  // Accounted on the PCIe link it crossed, with its exact duration.
  const auto [written, busy] = link_totals(with_write, "pcie");
  CHECK(written == bytes);
  CHECK(busy == doctest::Approx(write).epsilon(1e-9));
  CHECK(link_totals(without, "pcie").first == 0);

  // It woke nobody: as many waits as without the write (before writes left the instances'
  // wait sets: 6 against 4, the wake-up and a wait for the step it cut B's plan at), and the
  // same requests.
  CHECK(with_write.waits == without.waits);
  CHECK(with_write.steps == without.steps);
  REQUIRE(without.requests.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(with_write.requests[i].first_token == without.requests[i].first_token);
    CHECK(with_write.requests[i].finish == without.requests[i].finish);
  }
}

TEST_CASE("write wakes: the run ends when the last write does, accounted in full") {
  // A alone: its write-through starts when it finishes and is the last thing in the run.
  auto s = scenario_with("completion");
  const auto out = test::run_with(s, {test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40))});
  REQUIRE(out.requests.size() == 1);
  const double bytes = 40 * 16 * s.model.kv_bytes_per_token();
  const double write = bytes / kPcie + kLatency;
  CHECK(out.sim_duration == doctest::Approx(out.requests[0].finish + write).epsilon(1e-12));
  const auto [written, busy] = link_totals(out, "pcie");
  CHECK(written == bytes);
  CHECK(busy == doctest::Approx(write).epsilon(1e-9));
  // The DRAM holds the 40 written blocks.
  REQUIRE(out.tiers.size() == 2);
  CHECK(out.tiers[1].written_blocks == 40);
}
