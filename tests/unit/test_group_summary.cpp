// Per-group summaries (/groups): the figures of each instance group from hand-made request
// rows, checked against values computed by hand (numpy's linear percentiles), a group
// without requests, and the group totals against the run's.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "sim/results/records.hpp"

using namespace kvsim::results;

namespace {

RequestRecord row(std::int32_t instance, RequestStatus status, double ttft, double tpot, double e2e,
                  std::uint32_t input, std::uint32_t output, std::uint32_t cached, std::uint32_t preemptions = 0) {
  RequestRecord r;
  r.instance = instance;
  r.status = status;
  r.ttft = ttft;
  r.tpot = tpot;
  r.e2e = e2e;
  r.input_tokens = input;
  r.output_tokens = output;
  r.cached_tokens = cached;
  r.preemptions = preemptions;
  return r;
}

GroupRecord identity(const char* name, std::uint32_t instances) {
  GroupRecord g;
  std::snprintf(g.name, sizeof g.name, "%s", name);
  std::snprintf(g.role, sizeof g.role, "mixed");
  g.instances = instances;
  g.tp = 1;
  return g;
}

}  // namespace

TEST_CASE("group summary: each group's figures from its instances' requests, by hand") {
  SummaryBuilder builder;
  // Groups: a = instances 0 and 1, b = instance 2, idle = instance 3 (no requests).
  builder.set_groups({identity("a", 2), identity("b", 1), identity("idle", 1)}, {0, 0, 1, 2});
  builder.add(row(0, RequestStatus::completed, 1.0, 0.1, 2.0, 100, 10, 50, 1));
  builder.add(row(1, RequestStatus::completed, 3.0, 0.3, 4.0, 100, 20, 0));
  builder.add(row(2, RequestStatus::completed, 5.0, 0, 6.0, 200, 1, 100));  // one token: no TPOT
  builder.add(row(2, RequestStatus::unfinished, -1, -1, -1, 300, 0, 0, 2));
  builder.add(row(-1, RequestStatus::rejected, -1, -1, -1, 900000, 0, 0));  // never placed: no group
  const Summary s = builder.finish(10.0, 0.1);
  REQUIRE(s.groups.size() == 3);
  const GroupRecord& a = s.groups[0];
  CHECK(std::string(a.name) == "a");
  CHECK(a.requests == 2);
  CHECK(a.completed == 2);
  CHECK(a.preemptions == 1);
  // numpy linear percentiles of {1, 3}: p50 = 2, p99 = 1 + 0.99 x 2 = 2.98.
  CHECK(a.ttft_p50 == doctest::Approx(2.0));
  CHECK(a.ttft_p99 == doctest::Approx(2.98));
  CHECK(a.tpot_p50 == doctest::Approx(0.2));
  CHECK(a.tpot_p99 == doctest::Approx(0.298));
  CHECK(a.e2e_p50 == doctest::Approx(3.0));
  CHECK(a.e2e_p99 == doctest::Approx(3.98));
  CHECK(a.throughput_rps == doctest::Approx(0.2));       // 2 completed / 10 s
  CHECK(a.output_tokens_per_s == doctest::Approx(3.0));  // 30 tokens / 10 s
  CHECK(a.prefix_hit_ratio == doctest::Approx(0.25));    // 50 cached of 200
  const GroupRecord& b = s.groups[1];
  CHECK(b.requests == 2);
  CHECK(b.completed == 1);
  CHECK(b.preemptions == 2);
  CHECK(b.ttft_p50 == doctest::Approx(5.0));
  CHECK(b.ttft_p99 == doctest::Approx(5.0));
  CHECK(b.tpot_p50 == 0.0);  // no request of more than one token: zeros, as documented
  CHECK(b.e2e_p99 == doctest::Approx(6.0));
  CHECK(b.output_tokens_per_s == doctest::Approx(0.1));
  CHECK(b.prefix_hit_ratio == doctest::Approx(0.5));
  const GroupRecord& idle = s.groups[2];
  CHECK(idle.requests == 0);
  CHECK(idle.completed == 0);
  CHECK(idle.ttft_p50 == 0.0);
  CHECK(idle.ttft_p99 == 0.0);
  CHECK(idle.throughput_rps == 0.0);
  CHECK(idle.prefix_hit_ratio == 0.0);
  // Totals: the groups complete what the run completes; the unplaced request is in no group.
  CHECK(a.completed + b.completed + idle.completed == s.completed);
  CHECK(a.requests + b.requests + idle.requests == s.requests - 1);
  // The JSON summary carries the rows.
  std::ostringstream json;
  print_summary_json(json, s);
  CHECK(json.str().find("\"groups\":[{\"name\":\"a\",\"role\":\"mixed\"") != std::string::npos);
  // The table prints them with two groups or more.
  std::ostringstream table;
  print_summary_table(table, s);
  CHECK(table.str().find("\n  idle ") != std::string::npos);
}

TEST_CASE("group summary: one group's latencies are the run's, and no groups gives no rows") {
  SummaryBuilder one;
  one.set_groups({identity("instances", 2)}, {0, 0});
  one.add(row(0, RequestStatus::completed, 1.0, 0.1, 2.0, 10, 5, 0));
  one.add(row(1, RequestStatus::completed, 2.0, 0.2, 3.0, 10, 5, 5));
  const Summary s = one.finish(5.0, 0.1);
  REQUIRE(s.groups.size() == 1);
  CHECK(s.groups[0].ttft_p50 == s.ttft.p50);
  CHECK(s.groups[0].e2e_p99 == s.e2e.p99);
  CHECK(s.groups[0].tpot_p99 == s.tpot.p99);
  CHECK(s.groups[0].prefix_hit_ratio == doctest::Approx(0.25));
  SummaryBuilder none;
  none.add(row(0, RequestStatus::completed, 1.0, 0.1, 2.0, 10, 5, 0));
  CHECK(none.finish(1.0, 0.1).groups.empty());
}

TEST_CASE("group summary under P/D: a handed-off request is its prefill group's TTFT and hits, its decode group's TPOT and tokens") {
  SummaryBuilder builder;
  // Groups: p = prefill instances 0 and 1, d = decode instance 2.
  builder.set_groups({identity("p", 2), identity("d", 1)}, {0, 0, 1});
  auto handed_off = [](std::int32_t prefill, double ttft, double tpot, double e2e, std::uint32_t output,
                       std::uint32_t cached, std::uint32_t preemptions) {
    RequestRecord r = row(2, RequestStatus::completed, ttft, tpot, e2e, 100, output, cached, preemptions);
    r.prefill_instance = prefill;
    r.decode_instance = 2;
    return r;
  };
  builder.add(handed_off(0, 0.5, 0.01, 1.5, 10, 40, 1));
  builder.add(handed_off(1, 1.5, 0.03, 2.5, 30, 0, 0));
  // Still prefilling when the run ended: not handed off, its prefill instance's only.
  builder.add(row(1, RequestStatus::unfinished, -1, -1, -1, 100, 0, 0));
  const Summary s = builder.finish(10.0, 0.1);
  REQUIRE(s.groups.size() == 2);
  const GroupRecord& p = s.groups[0];
  CHECK(p.requests == 3);
  CHECK(p.completed == 2);
  CHECK(p.preemptions == 0);                          // preemptions count where the decode ran
  CHECK(p.ttft_p50 == doctest::Approx(1.0));          // {0.5, 1.5}
  CHECK(p.ttft_p99 == doctest::Approx(1.49));
  CHECK(p.tpot_p50 == 0.0);                           // no decode here
  CHECK(p.e2e_p50 == 0.0);
  CHECK(p.output_tokens_per_s == 0.0);
  CHECK(p.prefix_hit_ratio == doctest::Approx(0.2));  // 40 cached of 200 prompt tokens
  const GroupRecord& d = s.groups[1];
  CHECK(d.requests == 2);
  CHECK(d.completed == 2);
  CHECK(d.preemptions == 1);
  CHECK(d.ttft_p50 == 0.0);
  CHECK(d.tpot_p50 == doctest::Approx(0.02));        // {0.01, 0.03}
  CHECK(d.e2e_p99 == doctest::Approx(2.49));         // {1.5, 2.5}
  CHECK(d.output_tokens_per_s == doctest::Approx(4.0));  // 40 tokens / 10 s
  CHECK(d.prefix_hit_ratio == 0.0);
}
