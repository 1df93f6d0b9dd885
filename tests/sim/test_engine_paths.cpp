// Engine paths with hand-computed answers: loads from the SSD and the remote pool, a
// lower tier that evicts into the next, exclusive placement, the run's time limit, an
// arrival that interrupts an instance waiting on a transfer, and one simulation per
// process.
//
// Platform: one DGX H100 node (H100-SXM: PCIe 64 GB/s per direction, 2 us; GPU NICs
// 400 Gb/s = 50 GB/s, 5 us), Llama-3.1-8B (131,072 B of KV per token, 2 MiB per 16-token
// block), kvcache.transfer_efficiency = 1 so links carry their nominal bandwidth. CM02
// without cross-traffic: one transfer over a route takes the sum of its latencies plus
// bytes / the smallest bandwidth on it.
#include <doctest/doctest.h>

#include <numeric>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/sim/sim_fixture.hpp"

using namespace kvsim;

namespace {

// A (40 blocks) at t=0 on instance 0, written through to the tier when it completes; B at
// t=100 on instance 1 (round robin) with A's 40 blocks and 8 of its own: B misses its HBM
// and finds the 40 blocks below.
std::vector<workload::Request> a_then_b() {
  auto b = test::contents(1, 40);
  for (std::uint64_t c = 0; c < 8; ++c) b.push_back(5000 + c);
  return {test::make_request(0, 0.0, 40 * 16, 2, test::contents(1, 40)), test::make_request(1, 100.0, 48 * 16, 2, b)};
}

std::vector<std::string> two_instances(std::vector<std::string> extra) {
  std::vector<std::string> o{"instances.count=2", "routing.policy=round_robin", "kvcache.transfer_efficiency=1",
                             "kvcache.load_vs_recompute=load"};
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

constexpr double kBytes40 = 40.0 * 16 * 131072;  // A's prompt blocks

}  // namespace

TEST_CASE("engine: an SSD load streams drive to GPU at the slower of the drive and PCIe") {
  auto scenario = test::tiny_scenario(two_instances(
      {"kvcache.ssd.capacity=1GiB", "kvcache.ssd.admission=completion", "kvcache.ssd.read_bandwidth=7GB/s"}));
  REQUIRE(scenario.model.kv_bytes_per_token() == 131072);
  auto out = test::run_with(scenario, a_then_b());
  const auto& b = out.requests[1];
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(b.ssd_tokens == 40 * 16);
  // Route drive → CPU side → GPU: the drive's read link (7 GB/s, no latency) then PCIe
  // (64 GB/s, 2 us).
  CHECK(b.load_wait == doctest::Approx(kBytes40 / 7e9 + 2e-6).epsilon(1e-9));
}

TEST_CASE("engine: a remote-pool load crosses the server's NIC and the GPU's NIC") {
  auto scenario = test::tiny_scenario(two_instances({"kvcache.remote.capacity=1GiB", "kvcache.remote.admission=completion",
                                                     "kvcache.remote.nic_bandwidth=25GB/s", "kvcache.remote.nic_latency=3us"}));
  auto out = test::run_with(scenario, a_then_b());
  const auto& b = out.requests[1];
  REQUIRE(b.status == results::RequestStatus::completed);
  CHECK(b.remote_tokens == 40 * 16);
  // Server NIC 25 GB/s + 3 us, then the GPU's NIC 50 GB/s + 5 us.
  CHECK(b.load_wait == doctest::Approx(kBytes40 / 25e9 + 3e-6 + 5e-6).epsilon(1e-9));
}

TEST_CASE("engine: exclusive placement moves loaded blocks out of the tier") {
  for (const bool exclusive : {false, true}) {
    CAPTURE(exclusive);
    auto scenario = test::tiny_scenario(
        two_instances({"kvcache.dram.capacity=1GiB", "kvcache.dram.admission=completion",
                       std::string("kvcache.dram.placement=") + (exclusive ? "exclusive" : "inclusive")}));
    auto out = test::run_with(scenario, a_then_b());
    REQUIRE(out.requests[1].dram_tokens == 40 * 16);
    const auto& dram = out.tiers[2];  // two HBM rows, then the node's DRAM
    REQUIRE(std::string(dram.tier) == "dram");
    // A writes 40 blocks. Inclusive: B's completion finds those 40 still there and writes
    // its 8 new ones. Exclusive: B's load took the 40 out, so its completion writes all 48.
    CHECK(dram.written_blocks == (exclusive ? 40u + 48u : 40u + 8u));
    CHECK(dram.occupancy_blocks == 48u);
  }
}

TEST_CASE("engine: a full DRAM tier demotes what it evicts to the SSD below it") {
  // Three prompts of 40 distinct blocks written through to a DRAM of 60 blocks (LRU): the
  // second evicts 20 blocks of the first, the third the other 20 and 20 of the second.
  auto scenario = test::tiny_scenario({"kvcache.dram.capacity=120MiB", "kvcache.dram.admission=completion",
                                       "kvcache.ssd.capacity=1GiB", "kvcache.ssd.admission=demotion",
                                       "kvcache.transfer_efficiency=1"});
  std::vector<workload::Request> r;
  for (std::uint64_t id = 0; id < 3; ++id)
    r.push_back(test::make_request(id, 10.0 * double(id), 40 * 16, 2, test::contents(100 * (id + 1), 40)));
  auto out = test::run_with(scenario, r);
  REQUIRE(out.tiers.size() == 3);  // HBM, DRAM, SSD
  const auto& dram = out.tiers[1];
  const auto& ssd = out.tiers[2];
  CHECK(std::string(ssd.tier) == "ssd");
  CHECK(dram.capacity_blocks == 60u);
  CHECK(dram.written_blocks == 120u);
  CHECK(dram.evicted_blocks == 60u);
  CHECK(dram.occupancy_blocks == 60u);
  CHECK(ssd.written_blocks == 60u);
  CHECK(ssd.written_bytes == doctest::Approx(60.0 * 16 * 131072));
  // The demotions crossed the drive's write link.
  double ssd_link_bytes = 0;
  for (const auto& link : out.links)
    if (std::string(link.name).find("ssd") != std::string::npos) ssd_link_bytes += link.bytes;
  CHECK(ssd_link_bytes == doctest::Approx(60.0 * 16 * 131072));
}

TEST_CASE("engine: run.time_limit stops the run and leaves the rest unfinished") {
  auto scenario = test::tiny_scenario({"run.time_limit=1s"});
  // 1,000 output tokens take longer than 1 s; the second request arrives after the limit.
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 512, 1000, test::contents(1, 32)),
                                       test::make_request(1, 2.0, 512, 2, test::contents(100, 32))});
  REQUIRE(out.requests.size() == 1);  // never released
  const auto& r = out.requests[0];
  CHECK(r.status == results::RequestStatus::unfinished);
  CHECK(r.finish == -1);
  CHECK(r.first_token == test::step_time(scenario, {{0, 512, true}}));
  CHECK(out.sim_duration <= 1.0 + 1e-9);
}

TEST_CASE("engine: an arrival interrupts an instance waiting on a transfer") {
  // B (instance 1) loads A's prefix from DRAM over a slow PCIe link (1 GB/s: 84 ms); C
  // arrives on instance 1 during that load and is computed at once, on its own.
  auto scenario = test::tiny_scenario(two_instances(
      {"kvcache.dram.capacity=1GiB", "kvcache.dram.admission=completion", "platform.gpu_spec.pcie_bandwidth=1GB/s"}));
  auto r = a_then_b();
  r.push_back(test::make_request(2, 100.001, 16, 2, {9999}));   // instance 0
  r.push_back(test::make_request(3, 100.002, 64, 2, test::contents(7000, 4)));  // instance 1
  auto out = test::run_with(scenario, r);
  const auto& b = out.requests[1];
  const auto& c = out.requests[3];
  REQUIRE(c.instance == 1);
  CHECK(b.load_wait == doctest::Approx(kBytes40 / 1e9 + 2e-6).epsilon(1e-9));
  CHECK(c.first_token == 100.002 + test::step_time(scenario, {{0, 64, true}}));
  CHECK(c.first_token < 100.0 + b.load_wait);  // it did not wait for B's load
}

TEST_CASE("engine: a second simulation in one process fails with a clear error") {
  auto scenario = test::tiny_scenario();
  scenario.workload = workload::WorkloadSpec::of_requests({test::make_request(0, 0.0, 64, 2, test::contents(1, 4))});
  // In a child process: the first run succeeds, the second must refuse.
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 3;
    try {
      (void)engine::simulate(scenario, {});
      try {
        (void)engine::simulate(scenario, {});
        code = 1;  // ran twice
      } catch (const std::logic_error& e) {
        code = std::string(e.what()).find("already ran in this process") != std::string::npos ? 0 : 2;
      }
    } catch (...) {
      code = 4;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("engine: occupancy samples grow with activity, not with simulated time") {
  // Two requests a year apart: the sampler records changes only and skips the idle year
  // (it used to record every tier every 10 s: 3 million rows for this run).
  auto scenario = test::tiny_scenario();
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 512, 4, test::contents(1, 32)),
                                       test::make_request(1, 3.15e7, 512, 4, test::contents(100, 32))});
  REQUIRE(out.requests[1].status == results::RequestStatus::completed);
  CHECK(out.tier_samples.size() <= 6);
  CHECK(out.tier_samples.front().time == 0.0);
}

TEST_CASE("engine: an event 1e14 s away is waited for without deep recursion") {
  // Waits longer than one timer slice (1e9 s) used to recurse once per slice: 1e5 frames.
  auto scenario = test::tiny_scenario();
  auto out = test::run_with(scenario, {test::make_request(0, 0.0, 64, 2, test::contents(1, 4)),
                                       test::make_request(1, 1e14, 64, 2, test::contents(9, 4))});
  REQUIRE(out.requests[1].status == results::RequestStatus::completed);
  CHECK(out.requests[1].arrival == 1e14);
}

TEST_CASE("engine: a DRAM tier with second_touch admission keeps only blocks evicted twice") {
  // HBM of 42 blocks; every request needs 41 or 42, so each evicts all cached blocks of the
  // one before. P (40 prompt blocks) is evicted by Q (remembered only), used again as P2 (a
  // DRAM miss), evicted again by R (admitted this time), and P3 finds it in DRAM.
  auto scenario = test::tiny_scenario({"instances.kv_blocks=42", "kvcache.dram.capacity=1GiB",
                                       "kvcache.dram.admission=second_touch", "kvcache.transfer_efficiency=1",
                                       "kvcache.load_vs_recompute=load"});
  const auto p = test::contents(1, 40);
  auto with_tail = [&](std::uint64_t tail) {
    auto c = p;
    c.push_back(tail);
    return c;
  };
  std::vector<workload::Request> r{
      test::make_request(0, 0.0, 40 * 16, 2, p),                    // P: 41 blocks with its output
      test::make_request(1, 10.0, 41 * 16, 2, test::contents(1000, 41)),  // Q: 42 blocks, evicts P (1st time)
      test::make_request(2, 20.0, 41 * 16, 2, with_tail(7)),        // P2: misses HBM and DRAM
      test::make_request(3, 30.0, 41 * 16, 2, test::contents(2000, 41)),  // R: evicts P (2nd time)
      test::make_request(4, 40.0, 41 * 16, 2, with_tail(8)),        // P3: P's blocks from DRAM
  };
  auto out = test::run_with(scenario, r);
  for (const auto& q : out.requests) REQUIRE(q.status == results::RequestStatus::completed);
  CHECK(out.requests[2].cached_tokens == 0);
  CHECK(out.requests[4].dram_tokens == 40 * 16);
  const auto& dram = out.tiers[1];
  REQUIRE(std::string(dram.tier) == "dram");
  // Admitted: P's 40 blocks at their second eviction (by R); Q's and P2's tail only once.
  CHECK(dram.written_blocks == 40u);
}
