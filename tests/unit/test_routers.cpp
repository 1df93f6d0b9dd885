// The routing family, each in a situation where its decision is known by hand (the fake
// engines and view of tests/unit/router_fixture.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "models/scheduling/routing/router.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "sim/util/error.hpp"
#include "tests/unit/router_fixture.hpp"

using namespace kvsim;
using namespace kvsim::scheduling;
using namespace kvsim::scheduling::routing;

namespace {
using FakeView = test::FakeRouterView;
using Cluster = test::RouterCluster;
workload::Request request(std::uint64_t session, std::uint32_t input = 1600) { return test::router_request(session, input); }
}  // namespace

TEST_CASE("prefix_affinity: longest prefix (HBM then node DRAM) wins, and is given up past the imbalance bound") {
  Cluster c(4);
  c.load(0, 100);
  c.load(2, 50);
  FakeView view;
  view.hits[2].hbm = 10;
  view.hits[3].hbm = 4;
  view.hits[3].lower = {8, 0, 0};  // 12 blocks: 4 in HBM + 8 in the node's DRAM
  auto router = make_router("prefix_affinity", {{"imbalance_tokens", 1000}, {"imbalance_ratio", 2}});
  router->attach(view);
  CHECK(router->route(request(1), c.views, 0) == 3);
  // Instance 3 now has 3000 tokens more than the least loaded (instance 1, 0 tokens): past
  // 1000 tokens and past 2 x 0, so it is no candidate; instance 2 (10 blocks) is next.
  c.load(3, 3000);
  CHECK(router->route(request(2), c.views, 0) == 2);
  // Even the loads out: instances 0, 1, 2 at 1000 tokens, instance 3 at 3000. The least loaded
  // is instance 0; instance 3 exceeds it by 2000 > 1000 tokens and 3000 > 2 x 1000: still
  // excluded, so instance 2's 10 blocks win. With imbalance_ratio 3 (3000 <= 3 x 1000)
  // instance 3 is a candidate again and its 12 blocks win.
  c.load(1, 1000);
  c.load(0, 900);
  c.load(2, 950);
  CHECK(router->route(request(3), c.views, 0) == 2);
  auto lenient = make_router("prefix_affinity", {{"imbalance_tokens", 1000}, {"imbalance_ratio", 3}});
  lenient->attach(view);
  CHECK(lenient->route(request(4), c.views, 0) == 3);
  // No prefix anywhere: the least loaded.
  FakeView empty;
  auto plain = make_router("prefix_affinity");
  plain->attach(empty);
  CHECK(plain->route(request(5), c.views, 0) == 0);
}

TEST_CASE("session_affinity: a session sticks to its first instance until it is overloaded past the threshold") {
  Cluster c(3);
  c.load(0, 500);
  c.load(2, 200);
  auto router = make_router("session_affinity", {{"overload_tokens", 1000}});
  FakeView view;
  router->attach(view);
  CHECK(router->route(request(7), c.views, 0) == 1);  // new session: least loaded
  c.load(1, 900);                                     // instance 1: 900, least loaded now 2 (200)
  CHECK(router->route(request(7), c.views, 0) == 1);  // 700 more than the least: stays
  CHECK(router->route(request(8), c.views, 0) == 2);  // another new session: least loaded
  c.load(1, 400);                                     // instance 1: 1300, 1100 more than instance 2
  CHECK(router->route(request(7), c.views, 0) == 2);  // moved
  c.load(2, 500);                                     // instance 2: 700 (least is 0 at 500)
  CHECK(router->route(request(7), c.views, 0) == 2);  // and sticks to its new home
}

TEST_CASE("power_of_two: never picks the most loaded instance, and keeps dispatched load balanced") {
  Cluster c(4);
  c.load(3, 5000);
  auto router = make_router("power_of_two");
  FakeView view;
  router->attach(view);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 3000; ++i) ++counts[router->route(request(1), c.views, 0)];
  CHECK(counts[3] == 0);
  // Instances 0-2 are picked when drawn against 3 or against each other (equal loads: the
  // first drawn): each has probability 1/3; 3000 draws give 1000 +- 3 sigma (77).
  for (int i = 0; i < 3; ++i) CHECK(std::abs(counts[std::size_t(i)] - 1000) < 80);

  // Dispatching 400 requests of 11 tokens to four empty instances: the two-choice rule keeps
  // the spread within a few requests (random placement would leave about +-20).
  Cluster d(4);
  auto balanced = make_router("power_of_two");
  balanced->attach(view);
  for (int i = 0; i < 400; ++i) d.load(balanced->route(request(2), d.views, 0), 11);
  double lo = 1e18, hi = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    lo = std::min(lo, d.outstanding(i));
    hi = std::max(hi, d.outstanding(i));
  }
  CHECK(hi - lo <= 3 * 11);
}

TEST_CASE("random: uniform over instances, reproducible from the seed") {
  Cluster c(4);
  FakeView view;
  auto a = make_router("random");
  auto b = make_router("random");
  a->attach(view);
  b->attach(view);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 4000; ++i) {
    const auto x = a->route(request(1), c.views, 0);
    CHECK(x == b->route(request(1), c.views, 0));
    ++counts[x];
  }
  // 1000 each, sigma = sqrt(4000 x 1/4 x 3/4) = 27.
  for (int n : counts) CHECK(std::abs(n - 1000) < 4 * 27);
}

TEST_CASE("min_ttft: a remote-pool hit beats a cold instance over a fast link, not over a slow one") {
  // 1600-token prompt, 16-token blocks. Instance 1 holds 90 blocks (1440 tokens) in the remote
  // pool and has 100 outstanding tokens (queue 100 / 20000 = 5 ms); instance 0 is cold and idle.
  //   cold:       prefill 1600 x 0.1 ms = 160 ms
  //   fast link:  5 ms + prefill 160 x 0.1 ms + load 10 ms = 31 ms      -> instance 1
  //   slow link:  5 ms + min(16 ms + 1 s, recompute 160 ms) = 165 ms    -> instance 0
  Cluster c(2);
  c.load(1, 100);
  FakeView view;
  view.hits[1].lower = {0, 0, 90};
  view.load_time[1] = 0.010;
  auto router = make_router("min_ttft");
  router->attach(view);
  CHECK(router->route(request(1), c.views, 0) == 1);
  view.load_time[1] = 1.0;
  CHECK(router->route(request(1), c.views, 0) == 0);
}

TEST_CASE("stale loads: with staleness the router acts on the loads of its last refresh plus what it sent") {
  Cluster c(2);
  auto router = make_router("session_affinity", {{"overload_tokens", 0}, {"staleness", 10}});
  FakeView view;
  router->attach(view);
  CHECK(router->route(request(1, 99), c.views, 0) == 0);  // loads 0, 0; sends 109 tokens to 0
  c.load(1, 5000);                                         // the router does not see this until t = 10
  CHECK(router->route(request(2, 99), c.views, 5) == 1);   // it sees 109 vs 0
  CHECK(router->route(request(3, 99), c.views, 10) == 0);  // refreshed: 0 vs 5000
}

TEST_CASE("router parameters: an unknown one is an input error with a suggestion") {
  CHECK_THROWS_WITH_AS(make_router("prefix_affinity", {{"imbalance_token", 5}}), doctest::Contains("imbalance_tokens"),
                       InputError);
}

namespace {
// A view that lists the instances holding a prefix in reverse order, as a cluster-wide
// index may: the router's choice must not depend on that order.
class ReversedView final : public RouterView {
 public:
  std::map<std::size_t, PrefixHit> hits;
  PrefixHit prefix_hit(std::size_t i, const workload::Request&, int) const override {
    auto it = hits.find(i);
    return it == hits.end() ? PrefixHit{} : it->second;
  }
  void prefix_holders(const workload::Request& request, int deepest, std::size_t instances,
                      std::vector<std::pair<std::uint32_t, PrefixHit>>& found) const override {
    RouterView::prefix_holders(request, deepest, instances, found);
    std::reverse(found.begin(), found.end());
  }
  double load_seconds(std::size_t, const PrefixHit&) const override { return 0; }
  double prefill_seconds(std::size_t, std::uint32_t tokens, std::uint32_t) const override { return tokens * 1e-4; }
  bool would_load(std::size_t, const PrefixHit&) const override { return false; }
  std::uint32_t block_size() const override { return 16; }
  std::uint64_t seed() const override { return 11; }
};
}  // namespace

TEST_CASE("prefix_affinity: equal prefixes go to the lower load, then the lower index, whatever order holders come in") {
  Cluster c(5);
  c.load(0, 10);
  c.load(1, 300);
  c.load(2, 200);
  c.load(3, 200);
  c.load(4, 200);
  ReversedView view;
  view.hits[1].hbm = 6;
  view.hits[2].hbm = 6;
  view.hits[3].lower = {6, 0, 0};
  view.hits[4].hbm = 6;
  auto router = make_router("prefix_affinity");
  router->attach(view);
  // Instances 1 to 4 all hold 6 blocks; 2, 3 and 4 are the least loaded of them (200): 2.
  CHECK(router->route(request(1), c.views, 0) == 2);
}
