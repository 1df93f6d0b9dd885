// Tests of the mix workload generator (workloads/synth/mix/): each population kind's
// structure with fixed seeds, the merge (ids, sessions, parents, categories), diurnal
// thinning against its formula, spec layering and overrides, and determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"
#include "workloads/synth/mix/mix.hpp"

using kvsim::Rng;
using kvsim::workload::MixGenerator;
using kvsim::workload::Request;

namespace {

std::vector<Request> generate(const std::string& toml_text, std::uint64_t seed = 1,
                              std::vector<std::string>* categories = nullptr) {
  toml::table doc = kvsim::config::parse_toml(toml_text, "<test>");
  auto context = std::make_shared<kvsim::config::ReadContext>();
  kvsim::config::Section root(&doc, "", context);
  auto params = kvsim::workload::parse_mix_params(root);
  root.finish();
  MixGenerator gen(std::move(params), Rng::stream(seed, "workload"), 16);
  std::vector<Request> out;
  while (auto r = gen.next()) out.push_back(std::move(*r));
  if (categories) *categories = gen.categories();
  return out;
}

std::size_t shared_prefix(const Request& a, const Request& b) {
  std::size_t n = 0;
  while (n < a.blocks.size() && n < b.blocks.size() && a.blocks[n] == b.blocks[n]) ++n;
  return n;
}

}  // namespace

TEST_CASE("mix batch job arrives at once at t0 with priority 1") {
  const auto requests = generate(R"(
num_requests = 500
[[population]]
kind = "batch"
start = 30
requests = 500
[population.types.batch]
prompts = 1
prompt = { model = "constant", median = 320 }
message = { model = "constant", median = 100 }
output = { model = "constant", median = 7 }
)");
  REQUIRE(requests.size() == 500);
  std::set<std::uint64_t> sessions;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    CHECK(r.id == i);
    CHECK(r.arrival == 30.0);
    CHECK(r.priority == 1);
    CHECK(r.turn == 1);
    CHECK(r.parent == -1);
    CHECK(r.input_tokens == 420);
    CHECK(r.output_tokens == 7);
    CHECK(r.blocks.size() == 27);  // ceil(420 / 16)
    sessions.insert(r.session);
    // The shared 320-token instruction is 20 full blocks, the same in every request.
    CHECK(shared_prefix(r, requests[0]) == (i == 0 ? 27u : 20u));
  }
  CHECK(sessions.size() == 500);
}

TEST_CASE("mix api requests are single-turn and share their client's template prefixes") {
  std::vector<std::string> categories;
  const auto requests = generate(R"(
num_requests = 3000
[[population]]
kind = "api"
rate = 50
clients = 3
client_zipf = 0
templates = 2
template = { model = "constant", median = 160 }
[population.types.api]
weight = 1
message = { model = "constant", median = 40 }
[population.types.text]
weight = 1
message = { model = "constant", median = 40 }
)", 3, &categories);
  REQUIRE(requests.size() == 3000);
  CHECK(categories == std::vector<std::string>{"api", "text"});
  std::set<std::uint64_t> sessions, prefixes;
  std::map<std::uint16_t, int> per_type;
  for (const Request& r : requests) {
    CHECK(r.turn == 1);
    CHECK(r.parent == -1);
    CHECK(r.input_tokens == 200);
    REQUIRE(r.blocks.size() == 13);
    sessions.insert(r.session);
    prefixes.insert(r.blocks[9]);   // the 10th block is the last one inside the 160-token template
    per_type[r.category]++;
  }
  CHECK(sessions.size() == requests.size());
  // 3 clients x 2 templates = 6 distinct template prefixes, each used many times.
  CHECK(prefixes.size() == 6);
  // Suffixes are unique: the block straddling nothing after the template differs always.
  std::set<std::uint64_t> tails;
  for (const Request& r : requests) tails.insert(r.blocks[10]);
  CHECK(tails.size() == requests.size());
  CHECK(per_type[0] > 1300);
  CHECK(per_type[1] > 1300);
}

TEST_CASE("mix agent sessions have short gaps and a context that grows turn by turn") {
  const auto requests = generate(R"(
num_requests = 2000
[[population]]
kind = "agent"
session_rate = 0.05
turn_weights = { 30 = 1 }
[population.types.agent]
think_time = { model = "uniform", min = 1, max = 5 }
)");
  REQUIRE(requests.size() == 2000);
  std::map<std::uint64_t, const Request*> by_id;
  for (const Request& r : requests) by_id[r.id] = &r;
  int follow_ups = 0;
  for (const Request& r : requests) {
    if (r.turn == 1) {
      CHECK(r.parent == -1);
      continue;
    }
    REQUIRE(r.parent >= 0);
    const Request& p = *by_id.at(static_cast<std::uint64_t>(r.parent));
    ++follow_ups;
    CHECK(p.session == r.session);
    CHECK(p.turn + 1 == r.turn);
    CHECK(r.think_time >= 1.0);
    CHECK(r.think_time <= 5.0);
    CHECK(r.arrival - p.arrival == doctest::Approx(r.think_time));
    // Input = previous input + previous output + a tool result; every full block of the
    // previous input is shared.
    CHECK(r.input_tokens > p.input_tokens + p.output_tokens);
    CHECK(shared_prefix(r, p) >= p.input_tokens / 16);
  }
  CHECK(follow_ups > 1800);
}

TEST_CASE("mix chat context_carry decides whether a follow-up keeps the history") {
  // A 320-token prompt (20 full blocks), a 100-token first message, 50-token messages and
  // 30-token outputs, three turns a session. Carried: turn 2 = 420 + 30 + 50 = 500 tokens
  // sharing the 26 full blocks of turn 1's 420; turn 3 = 580 sharing 31 (of 500). Dropped:
  // every follow-up is 320 + 50 = 370 tokens sharing only the prompt's 20 blocks.
  const auto spec = [](const std::string& carry) {
    return R"(
duration = 300
[[population]]
kind = "chat"
session_rate = 1
turn_weights = { 3 = 1 }
[population.types.text]
prompts = 1
prompt = { model = "constant", median = 320 }
first_message = { model = "constant", median = 100 }
message = { model = "constant", median = 50 }
output = { model = "constant", median = 30 }
think_time = { model = "constant", mean = 5 }
)" + carry;
  };
  const auto check = [](const std::vector<Request>& requests, auto&& expect) {
    std::map<std::uint64_t, const Request*> by_id;
    for (const Request& r : requests) by_id[r.id] = &r;
    int follow_ups = 0;
    for (const Request& r : requests) {
      if (r.turn == 1) {
        CHECK(r.input_tokens == 420);
        continue;
      }
      REQUIRE(r.parent >= 0);
      const Request& p = *by_id.at(static_cast<std::uint64_t>(r.parent));
      ++follow_ups;
      expect(r, p);
    }
    CHECK(follow_ups > 400);
    return follow_ups;
  };
  // The default carries every history.
  check(generate(spec("")), [](const Request& r, const Request& p) {
    CHECK(r.input_tokens == p.input_tokens + 80);
    CHECK(shared_prefix(r, p) == p.input_tokens / 16);
  });
  check(generate(spec("context_carry = 1\n")), [](const Request& r, const Request& p) {
    CHECK(r.input_tokens == (r.turn == 2 ? 500u : 580u));
    CHECK(shared_prefix(r, p) == (r.turn == 2 ? 26u : 31u));
  });
  check(generate(spec("context_carry = 0\n")), [](const Request& r, const Request& p) {
    CHECK(r.input_tokens == 370);
    CHECK(r.blocks.size() == 24);  // ceil(370 / 16)
    CHECK(shared_prefix(r, p) == 20);
  });
  // Half the follow-ups keep the history: turn 2 is 500 or 370 tokens; turn 3 grows from
  // either (580 or 450) or restarts (370).
  int carried = 0;
  const int follow_ups = check(generate(spec("context_carry = 0.5\n")), [&](const Request& r, const Request& p) {
    const bool kept = r.input_tokens == p.input_tokens + 80;
    CHECK((kept || r.input_tokens == 370));
    CHECK(shared_prefix(r, p) == (kept ? p.input_tokens / 16 : 20u));
    carried += kept;
  });
  // Binomial(n, 0.5): within 4 standard deviations.
  CHECK(std::abs(carried - follow_ups / 2.0) < 4 * std::sqrt(follow_ups / 4.0));
  CHECK_THROWS_AS(generate(spec("context_carry = 1.5\n")), kvsim::InputError);
}

TEST_CASE("mix chat sessions get unique ids across populations and categories by type") {
  std::vector<std::string> categories;
  const auto requests = generate(R"(
duration = 600
[[population]]
kind = "chat"
session_rate = 1
turns_mean = 3
[population.types.text]
think_time = { mean = 20 }
[[population]]
kind = "api"
rate = 5
)", 2, &categories);
  CHECK(categories == std::vector<std::string>{"text", "api"});
  std::map<std::uint64_t, std::uint16_t> session_category;
  std::uint64_t max_session = 0;
  std::set<std::uint64_t> first_turn_sessions;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    CHECK(r.id == i);
    CHECK(r.arrival <= 600.0);
    if (i > 0) CHECK(r.arrival >= requests[i - 1].arrival);
    if (r.turn == 1) {
      CHECK(first_turn_sessions.insert(r.session).second);
      CHECK(r.session == first_turn_sessions.size() - 1);  // counted in order of first turns
    } else {
      CHECK(first_turn_sessions.count(r.session) == 1);
    }
    auto [it, inserted] = session_category.emplace(r.session, r.category);
    CHECK(it->second == r.category);
    max_session = std::max(max_session, r.session);
  }
  CHECK(max_session + 1 == first_turn_sessions.size());
}

TEST_CASE("mix diurnal modulation follows the rate formula over the period") {
  // rate 20/s, amplitude 0.8, period 1000 s: expected count in [a, b] is
  // 20 * (b - a) + 20 * 0.8 * 1000 / (2 pi) * (cos(2 pi a / 1000) - cos(2 pi b / 1000)).
  const auto requests = generate(R"(
duration = 2000
diurnal = { amplitude = 0.8, period = 1000 }
[[population]]
kind = "api"
rate = 20
clients = 1
process = "poisson"
)");
  const auto expected = [](double a, double b) {
    const double w = 2 * std::numbers::pi / 1000;
    return 20 * (b - a) + 20 * 0.8 / w * (std::cos(w * a) - std::cos(w * b));
  };
  for (int q = 0; q < 8; ++q) {
    const double a = q * 250.0, b = a + 250.0;
    int count = 0;
    for (const Request& r : requests) count += r.arrival >= a && r.arrival < b;
    const double want = expected(a, b);
    // Poisson count: within 4 standard deviations.
    CHECK(std::abs(count - want) < 4 * std::sqrt(want));
  }
  // The peak quarter (t in [0, 250)) carries about 3.5 times the trough quarter's load.
  int peak = 0, trough = 0;
  for (const Request& r : requests) {
    peak += r.arrival < 250;
    trough += r.arrival >= 500 && r.arrival < 750;
  }
  CHECK(peak > 3 * trough);
}

TEST_CASE("mix same seed gives the same stream and another seed a different one") {
  const std::string spec = R"(
num_requests = 3000
[[population]]
kind = "chat"
session_rate = 2
[[population]]
kind = "api"
rate = 10
[[population]]
kind = "batch"
start = 10
requests = 100
)";
  const auto a = generate(spec, 9), b = generate(spec, 9), c = generate(spec, 10);
  REQUIRE(a.size() == b.size());
  bool differs = a.size() != c.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].arrival == b[i].arrival);
    CHECK(a[i].session == b[i].session);
    CHECK(a[i].blocks == b[i].blocks);
    CHECK(a[i].input_tokens == b[i].input_tokens);
    if (i < c.size()) differs = differs || a[i].arrival != c[i].arrival;
  }
  CHECK(differs);
}

TEST_CASE("mix spec errors name the key") {
  CHECK_THROWS_AS(generate("duration = 10\n[[population]]\nkind = \"chatt\"\n"), kvsim::InputError);
  CHECK_THROWS_AS(generate("duration = 10\n[[population]]\nkind = \"api\"\nrates = 3\n"), kvsim::InputError);
  CHECK_THROWS_AS(generate("[[population]]\nkind = \"api\"\n"), kvsim::InputError);  // never ends
  try {
    generate("duration = 10\n[[population]]\nkind = \"chat\"\nturn_weights = { zero = 1 }\n");
    FAIL("expected an error");
  } catch (const kvsim::InputError& e) {
    CHECK(std::string(e.what()).find("population.0.turn_weights") != std::string::npos);
  }
}

TEST_CASE("mix presets load and their keys can be overridden by dotted path") {
  toml::table doc = kvsim::workload::load_mix_spec("to-c");
  kvsim::config::apply_override(doc, "rate_scale=10");
  kvsim::config::apply_override(doc, "duration=60");
  kvsim::config::apply_override(doc, "population.0.types.text.weight=0");
  auto context = std::make_shared<kvsim::config::ReadContext>();
  kvsim::config::Section root(&doc, "", context);
  auto params = kvsim::workload::parse_mix_params(root);
  root.finish();
  CHECK(params.rate_scale == 10);
  MixGenerator gen(std::move(params), Rng::stream(1, "workload"), 16);
  std::size_t n = 0;
  while (auto r = gen.next()) {
    ++n;
    CHECK(gen.categories()[r->category] != "text");
  }
  // 10 x 3.3 sessions/s for 60 s = 1,980 sessions, plus the image follow-ups (seconds apart).
  CHECK(n > 1800);
  CHECK(n < 2800);
  CHECK_THROWS_AS(kvsim::workload::load_mix_spec("to-x"), kvsim::InputError);
}
