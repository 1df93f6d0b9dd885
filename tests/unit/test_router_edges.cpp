// Edge cases of every router, each answer derived by hand from the rule its file and
// `kvsim describe routing.<name>` document: ties, thresholds exactly at their limit, a
// single candidate, everything overloaded, stale loads at and just before the refresh,
// sticky sessions after their instance overloads, prefixes found only in the node's DRAM,
// and min_ttft's estimate terms. The engines and the view are the fakes of
// tests/unit/router_fixture.hpp (loads: prompt + output tokens enqueued; prefill:
// 0.1 ms per token plus pair_seconds per (new, cached) token pair).
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "models/scheduling/routing/router.hpp"
#include "tests/unit/fake_step_model.hpp"
#include "tests/unit/router_fixture.hpp"

using namespace kvsim;
using namespace kvsim::scheduling::routing;
using test::FakeRouterView;
using test::RouterCluster;
using test::router_request;

namespace {
std::vector<const scheduling::ServingEngine*> first(const RouterCluster& c, std::size_t n) {
  return {c.views.begin(), c.views.begin() + std::ptrdiff_t(n)};
}
}  // namespace

TEST_CASE("round_robin: index order whatever the loads, and a single instance always") {
  RouterCluster c(3);
  c.load(0, 10000);
  FakeRouterView view;
  auto router = make_router("round_robin");
  router->attach(view);
  for (std::size_t k = 0; k < 7; ++k) CHECK(router->route(router_request(k), c.views, 0) == k % 3);
  auto single = make_router("round_robin");
  const auto one = first(c, 1);
  for (int k = 0; k < 3; ++k) CHECK(single->route(router_request(1), one, 0) == 0);
}

TEST_CASE("least_loaded: ties go to the lowest index, and live loads follow what was enqueued") {
  RouterCluster c(4);
  c.load(0, 50);
  c.load(1, 20);
  c.load(2, 20);
  c.load(3, 30);
  FakeRouterView view;
  auto router = make_router("least_loaded");
  router->attach(view);
  CHECK(router->route(router_request(1), c.views, 0) == 1);  // 1 and 2 tie at 20: the lower
  CHECK(router->route(router_request(1), first(c, 1), 0) == 0);

  // Three idle instances, each request enqueued where it was sent (11 tokens): every round
  // they tie again, so the order is 0, 1, 2, 0, 1, 2.
  RouterCluster d(3);
  auto live = make_router("least_loaded");
  live->attach(view);
  for (std::size_t k = 0; k < 6; ++k) {
    const std::size_t to = live->route(router_request(k), d.views, 0);
    CHECK(to == k % 3);
    d.load(to, 11);
  }
}

TEST_CASE("random: one instance takes everything, and another run seed draws another sequence") {
  RouterCluster c(4);
  FakeRouterView view;
  auto router = make_router("random");
  router->attach(view);
  for (int k = 0; k < 5; ++k) CHECK(router->route(router_request(1), first(c, 1), 0) == 0);
  // Two routers on seeds 11 and 12: 32 draws over 4 instances agree by chance with
  // probability 4^-32.
  FakeRouterView other;
  other.run_seed = 12;
  auto a = make_router("random");
  auto b = make_router("random");
  a->attach(view);
  b->attach(other);
  int same = 0;
  for (int k = 0; k < 32; ++k) same += a->route(router_request(1), c.views, 0) == b->route(router_request(1), c.views, 0);
  CHECK(same < 32);
}

TEST_CASE("power_of_two: the two drawn are a uniform pair of distinct instances, the less loaded wins") {
  // Loads 0, 10, 20: the three pairs {0,1}, {0,2}, {1,2} are equally likely, so instance 0
  // wins 2/3 of the requests, instance 1 1/3 (only against 2), instance 2 never. 3000
  // requests: 2000 and 1000, sigma = sqrt(3000 x 2/9) = 25.8, checked within 3 sigma.
  RouterCluster c(3);
  c.load(1, 10);
  c.load(2, 20);
  FakeRouterView view;
  auto router = make_router("power_of_two");
  router->attach(view);
  std::vector<int> counts(3, 0);
  for (int k = 0; k < 3000; ++k) ++counts[router->route(router_request(1), c.views, 0)];
  CHECK(std::abs(counts[0] - 2000) < 78);
  CHECK(std::abs(counts[1] - 1000) < 78);
  CHECK(counts[2] == 0);
  // One instance: no draw, always it.
  CHECK(router->route(router_request(1), first(c, 1), 0) == 0);
  // Two instances: both are always drawn, so the less loaded always wins.
  for (int k = 0; k < 20; ++k) CHECK(router->route(router_request(1), first(c, 2), 0) == 0);
}

TEST_CASE("power_of_two: with stale loads it counts what it sent, so two idle instances alternate in pairs") {
  // Staleness 10 s: the snapshot of t = 0 says both idle. The first request is a tie (the
  // first drawn wins, at random); it adds 1600 + 10 tokens to its instance, so the second
  // sees 1610 against 0 and goes to the other one; the third is a tie again, the fourth
  // goes opposite to it.
  RouterCluster c(2);
  FakeRouterView view;
  auto router = make_router("power_of_two", {{"staleness", 10}});
  router->attach(view);
  for (int pair = 0; pair < 5; ++pair) {
    const std::size_t one = router->route(router_request(1), c.views, 0);
    const std::size_t two = router->route(router_request(1), c.views, 0);
    CHECK(one != two);
  }
}

TEST_CASE("session_affinity: a session moves only when its instance exceeds the least loaded by more than overload_tokens") {
  RouterCluster c(2);
  FakeRouterView view;
  auto router = make_router("session_affinity", {{"overload_tokens", 1000}});
  router->attach(view);
  CHECK(router->route(router_request(5), c.views, 0) == 0);  // new session, tie: the lower index
  c.load(0, 1000);                                            // 1000 more than instance 1: at the limit
  CHECK(router->route(router_request(5), c.views, 0) == 0);  // exactly overload_tokens: stays
  c.load(0, 2);                                               // 1002 > 1000
  CHECK(router->route(router_request(5), c.views, 0) == 1);  // moved to the least loaded
  // Its first instance is the least loaded again (1002 against 1500), but the session
  // stays where it moved: only overload moves it.
  c.load(1, 1500);
  CHECK(router->route(router_request(5), c.views, 0) == 1);
  // Both overloaded alike: no instance exceeds the least by anything, the session stays.
  c.load(0, 4498);  // instance 0: 5500
  c.load(1, 4000);  // instance 1: 5500
  CHECK(router->route(router_request(5), c.views, 0) == 1);
  CHECK(router->route(router_request(6), c.views, 0) == 0);  // a new session on the tie: the lower index
}

TEST_CASE("session_affinity: a session whose instance is not among the candidates goes to the least loaded and stays") {
  RouterCluster c(3);
  c.load(0, 300);
  c.load(1, 200);
  FakeRouterView view;
  auto router = make_router("session_affinity", {{"overload_tokens", 1000}});
  router->attach(view);
  CHECK(router->route(router_request(9), c.views, 0) == 2);  // instance 2 idle
  // Routed over instances 0 and 1 only: its home (2) is not there, so the least loaded (1).
  CHECK(router->route(router_request(9), first(c, 2), 0) == 1);
  // Back over all three: it stays on 1 (200 - 0 = 200 <= 1000), not back on 2.
  CHECK(router->route(router_request(9), c.views, 0) == 1);
  // A single candidate is never overloaded against itself.
  auto single = make_router("session_affinity", {{"overload_tokens", 0}});
  single->attach(view);
  for (int k = 0; k < 3; ++k) CHECK(single->route(router_request(4), first(c, 1), 0) == 0);
}

TEST_CASE("stale loads: the snapshot is retaken staleness seconds after the last one, not before") {
  // Staleness 10 s, first route at t = 3: the snapshot is taken at 3 and next at 13.
  RouterCluster c(2);
  FakeRouterView view;
  auto router = make_router("session_affinity", {{"overload_tokens", 0}, {"staleness", 10}});
  router->attach(view);
  CHECK(router->route(router_request(1, 99), c.views, 3) == 0);  // 0 vs 0: the lower; sends 109 to 0
  c.load(0, 9000);  // 9000 more on instance 0, unseen until 13
  c.load(1, 5000);  // 5000 more on instance 1, unseen until 13
  CHECK(router->route(router_request(2, 99), c.views, 12.999) == 1);  // sees 109 vs 0
  CHECK(router->route(router_request(3, 99), c.views, 13) == 1);      // refreshed: 9000 vs 5000
  // Session 1 lives on 0, which has 9000 - (5000 + 109 just sent) = 3891 more than the
  // least: it moves too (overload 0).
  CHECK(router->route(router_request(1, 99), c.views, 13) == 1);
}

TEST_CASE("prefix_affinity: a holder exactly imbalance_tokens above the least loaded is a candidate, one token more is not") {
  FakeRouterView view;
  view.hits[1].hbm = 5;
  // imbalance_ratio 1: the ratio admits only loads equal to the least's, so the token bound decides.
  const ParamValues params{{"imbalance_tokens", 1000}, {"imbalance_ratio", 1}};
  RouterCluster at(2);
  at.load(0, 500);
  at.load(1, 1500);
  auto router = make_router("prefix_affinity", params);
  router->attach(view);
  CHECK(router->route(router_request(1), at.views, 0) == 1);
  RouterCluster past(2);
  past.load(0, 500);
  past.load(1, 1501);
  auto other = make_router("prefix_affinity", params);
  other->attach(view);
  CHECK(other->route(router_request(1), past.views, 0) == 0);
}

TEST_CASE("prefix_affinity: a holder at exactly imbalance_ratio times the least loaded is a candidate, one token more is not") {
  FakeRouterView view;
  view.hits[1].hbm = 5;
  const ParamValues params{{"imbalance_tokens", 0}, {"imbalance_ratio", 2}};
  RouterCluster at(2);
  at.load(0, 500);
  at.load(1, 1000);
  auto router = make_router("prefix_affinity", params);
  router->attach(view);
  CHECK(router->route(router_request(1), at.views, 0) == 1);
  RouterCluster past(2);
  past.load(0, 500);
  past.load(1, 1001);
  auto other = make_router("prefix_affinity", params);
  other->attach(view);
  CHECK(other->route(router_request(1), past.views, 0) == 0);
  // An idle least-loaded instance: the ratio admits nothing above 0, the token bound decides.
  RouterCluster idle(2);
  idle.load(1, 2);
  auto strict = make_router("prefix_affinity", params);
  strict->attach(view);
  CHECK(strict->route(router_request(1), idle.views, 0) == 0);
  auto lenient = make_router("prefix_affinity", {{"imbalance_tokens", 2}, {"imbalance_ratio", 2}});
  lenient->attach(view);
  CHECK(lenient->route(router_request(1), idle.views, 0) == 1);
}

TEST_CASE("prefix_affinity: a prefix in the node's DRAM counts, one only in SSD or the remote pool does not") {
  RouterCluster c(4);
  FakeRouterView view;
  view.hits[1].hbm = 4;
  view.hits[2].lower = {5, 0, 0};   // only in its node's DRAM: 5 blocks beat instance 1's 4
  view.hits[3].lower = {0, 9, 9};   // SSD and remote pool only: no affinity
  auto router = make_router("prefix_affinity");
  router->attach(view);
  CHECK(router->route(router_request(1), c.views, 0) == 2);
  // HBM and DRAM add up: 4 + 2 = 6 blocks on instance 1 beat 5.
  view.hits[1].lower = {2, 0, 0};
  CHECK(router->route(router_request(1), c.views, 0) == 1);
  // Only the SSD/remote holder left: the request goes to the least loaded (idle 0).
  FakeRouterView deep;
  deep.hits[3].lower = {0, 9, 9};
  auto blind = make_router("prefix_affinity");
  blind->attach(deep);
  CHECK(blind->route(router_request(1), c.views, 0) == 0);
}

TEST_CASE("prefix_affinity: node mates sharing a DRAM prefix split by load, then index, and one instance takes all") {
  RouterCluster c(4);
  c.load(0, 10);  // the least loaded holds nothing
  c.load(1, 40);
  c.load(2, 30);
  c.load(3, 20);
  FakeRouterView view;
  for (std::size_t i = 1; i < 4; ++i) view.hits[i].lower = {6, 0, 0};  // the same node's DRAM
  auto router = make_router("prefix_affinity");
  router->attach(view);
  CHECK(router->route(router_request(1), c.views, 0) == 3);  // the least loaded of the three
  c.load(3, 10);                                              // instances 2 and 3 both at 30
  CHECK(router->route(router_request(1), c.views, 0) == 2);  // the lower index
  CHECK(router->route(router_request(1), first(c, 1), 0) == 0);
}

TEST_CASE("min_ttft: ties go to the lowest index, and an idle instance beats a loaded one when nothing is cached") {
  RouterCluster c(3);
  FakeRouterView view;
  auto router = make_router("min_ttft");
  router->attach(view);
  CHECK(router->route(router_request(1), c.views, 0) == 0);
  c.load(0, 100);
  CHECK(router->route(router_request(1), c.views, 0) == 1);
  CHECK(router->route(router_request(1), first(c, 1), 0) == 0);
}

TEST_CASE("min_ttft: the prefill of the lacking tokens attends to the cached part") {
  // 1600-token prompt; instance 1 holds 90 blocks (1440 tokens) in HBM and has 2600
  // outstanding tokens (queue 2600 / 20000 = 130 ms); instance 0 is cold and idle.
  // Prefill of t tokens after c cached: t x 0.1 ms + t x c x 0.1 us.
  //   instance 0: 1600 x 0.1 ms                                        = 160 ms
  //   instance 1: 130 ms + 160 x 0.1 ms + 160 x 1440 x 0.1 us = 130 + 16 + 23.04 = 169.04 ms
  // -> instance 0. Pricing the 160 tokens as a fresh prompt (146 ms) would pick instance 1.
  RouterCluster c(2);
  c.load(1, 2600);
  FakeRouterView view;
  view.pair_seconds = 1e-7;
  view.hits[1].hbm = 90;
  auto router = make_router("min_ttft");
  router->attach(view);
  CHECK(router->route(router_request(1), c.views, 0) == 0);
}

TEST_CASE("min_ttft: queue, prefill after HBM and DRAM hits and the DRAM load add up to the hand estimate") {
  // 1600-token prompt. Instance 1, idle: 50 blocks in HBM (800 tokens) then 40 in DRAM (640),
  // loaded in 50 ms; prefill of t after c cached: t x 0.1 ms + t x c x 0.1 us.
  //   the view loads: 50 ms < recomputing 640 tokens after 800 = 64 + 51.2 ms
  //   estimate:   160 x 0.1 ms + 160 x 1440 x 0.1 us + 50 ms = 16 + 23.04 + 50 = 89.04 ms
  //   (recomputing all 800 would have been 800 x 0.1 ms + 800 x 800 x 0.1 us = 144 ms)
  // Instance 0 holds 99 blocks in HBM (1584 tokens): 16 x 0.1 ms + 16 x 1584 x 0.1 us =
  // 4.1344 ms, plus its queue L / 20000. It wins below L = 1698.1 tokens: 1697 -> 0, 1699 -> 1.
  FakeRouterView view;
  view.pair_seconds = 1e-7;
  view.hits[0].hbm = 99;
  view.hits[1].hbm = 50;
  view.hits[1].lower = {40, 0, 0};
  view.load_time[1] = 0.050;
  RouterCluster below(2);
  below.load(0, 1697);
  auto router = make_router("min_ttft");
  router->attach(view);
  CHECK(router->route(router_request(1), below.views, 0) == 0);
  RouterCluster above(2);
  above.load(0, 1699);
  auto other = make_router("min_ttft");
  other->attach(view);
  CHECK(other->route(router_request(1), above.views, 0) == 1);
}

TEST_CASE("min_ttft: the lower-tier part is loaded or recomputed as the view says the engine would") {
  // 1600-token prompt; instance 1 has 90 blocks (1440 tokens) in the remote pool and 100
  // outstanding tokens (queue 5 ms). Prefill: 0.1 ms per token; the fake view's auto rule
  // loads when the load beats recomputing the 1440 tokens (144 ms).
  //   recompute on 1: 5 + 160                 = 165 ms
  //   load on 1:      5 + 16 + load time
  // Fast link (10 ms), instance 0 idle and cold (160 ms): auto loads (31 ms) -> 1; an engine
  // that always recomputes would take 165 ms -> 0.
  RouterCluster c(2);
  c.load(1, 100);
  FakeRouterView view;
  view.hits[1].lower = {0, 0, 90};
  view.load_time[1] = 0.010;
  auto router = make_router("min_ttft");
  router->attach(view);
  CHECK(router->route(router_request(1), c.views, 0) == 1);
  view.rule = kvcache::LoadRule::recompute;
  CHECK(router->route(router_request(1), c.views, 0) == 0);
  // Slow link (200 ms > 144 ms), instance 0 with 400 outstanding tokens (20 + 160 = 180 ms):
  // auto recomputes on 1 (165 ms) -> 1; an engine that always loads takes 5 + 16 + 200 =
  // 221 ms -> 0.
  c.load(0, 400);
  view.load_time[1] = 0.200;
  view.rule = kvcache::LoadRule::auto_choice;
  CHECK(router->route(router_request(1), c.views, 0) == 1);
  view.rule = kvcache::LoadRule::load;
  CHECK(router->route(router_request(1), c.views, 0) == 0);
}

TEST_CASE("prefill estimate for routers: the lacking tokens are chunked and attend to the cached context, and what recomputing costs") {
  // tests/unit/fake_step_model.hpp: a step takes 1 s + new/1024 s + context/65536 s.
  // 3072 tokens after 4096 cached, chunks of 2048: (1 + 2 + 6144/65536) + (1 + 1 + 7168/65536)
  // = 3.09375 + 2.109375 s. With nothing cached: (1 + 2 + 2048/65536) + (1 + 1 + 3072/65536)
  // = 3.03125 + 2.046875 s, the prefill of a request alone.
  test::FakePerf perf;
  scheduling::EngineParams p;
  p.num_blocks = 1024;
  p.max_num_batched_tokens = 2048;
  const scheduling::ServingEngine engine(p, perf);
  CHECK(engine.prefill_time_after(4096, 3072) == 3.09375 + 2.109375);
  CHECK(engine.prefill_time_after(0, 3072) == 3.03125 + 2.046875);
  workload::Request alone;
  alone.input_tokens = 3072;
  alone.output_tokens = 1;
  CHECK(engine.solo_latency(alone) == 3.03125 + 2.046875);
  // What a lower-tier load must beat: recomputing 3072 tokens after 4096 in one step, without
  // the step's overhead: 3072/1024 + 7168/65536 s.
  CHECK(engine.recompute_seconds(4096, 3072) == 3.0 + 0.109375);
}
