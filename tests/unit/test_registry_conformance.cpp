// Every pluggable family is a Registry<T> (sim/util/registry.hpp) and behaves the same way:
// names are unique and non-empty with a help line; every entry constructs with its default
// parameters; a misspelt parameter is rejected with the declared names and a suggestion;
// `describe` lists every parameter with its unit. New variants are checked by being
// registered, with no test to write.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "models/kvcache/admission/admission.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "models/scheduling/batching/batcher.hpp"
#include "models/scheduling/routing/router.hpp"
#include "models/compute/perf_model.hpp"
#include "sim/cli/command.hpp"
#include "sim/util/error.hpp"
#include "sim/util/params.hpp"
#include "workloads/readers/format.hpp"
#include "workloads/source_factory.hpp"

namespace {

template <class Entry>
void check_names(const kvsim::Registry<Entry>& registry) {
  CAPTURE(registry.family());
  REQUIRE(registry.size() > 0);
  std::set<std::string> seen;
  for (const auto& e : registry) {
    const std::string name(e.name);
    CAPTURE(name);
    CHECK(!name.empty());
    CHECK(seen.insert(name).second);
    CHECK(registry.find(name) == &e);
  }
  // A near miss is refused with the valid names and the closest one.
  const std::string first(registry.begin()->name);
  const std::string typo = first.substr(0, first.size() - 1) + (first.back() == 'x' ? "y" : "x");
  if (registry.find(typo) == nullptr) {
    const std::string expected = "did you mean \"" + first + "\"";
    CHECK_THROWS_WITH_AS(registry.at(typo), doctest::Contains(expected.c_str()), kvsim::InputError);
  }
}

// The parameter contract of a family whose entries declare ParamSpecs; resolve(name,
// overrides) is the family's own resolution (and construction where it has one).
template <class Entry, class Resolve>
void check_params(const kvsim::Registry<Entry>& registry, Resolve resolve) {
  for (const auto& e : registry) {
    const std::string name(e.name);
    CAPTURE(registry.family());
    CAPTURE(name);
    CHECK_NOTHROW(resolve(name, kvsim::ParamValues{}));
    const std::string described = kvsim::describe_params(e.params);
    for (const kvsim::ParamSpec& p : e.params) {
      CHECK(described.find(std::string(p.name)) != std::string::npos);
      if (!p.unit.empty()) CHECK(described.find(", " + std::string(p.unit) + ",") != std::string::npos);
      CHECK(!p.help.empty());
      CHECK(p.default_value >= 0);
    }
    if (e.params.empty()) {
      CHECK(described.find("(no parameters)") != std::string::npos);
      CHECK_THROWS_WITH_AS(resolve(name, kvsim::ParamValues{{"anything", 1.0}}), doctest::Contains("it has none"),
                           kvsim::InputError);
    } else {
      const std::string first(e.params.front().name);
      const std::string expected = "did you mean \"" + first + "\"";
      CHECK_THROWS_WITH_AS(resolve(name, kvsim::ParamValues{{first + "s", 1.0}}), doctest::Contains(expected.c_str()),
                           kvsim::InputError);
    }
  }
}

}  // namespace

TEST_CASE("registries: every family has unique names and suggests the closest on a typo") {
  check_names(kvsim::kvcache::eviction::policies());
  check_names(kvsim::kvcache::admission::admission_rules());
  check_names(kvsim::scheduling::routing::routers());
  check_names(kvsim::scheduling::batching::batchers());
  check_names(kvsim::compute::step_time_models());
  check_names(kvsim::workload::workload_generators());
  check_names(kvsim::workload::trace_formats());
  check_names(kvsim::workload::trace_writers());
  check_names(kvsim::cli::commands());
}

TEST_CASE("registries: routers, batchers and eviction policies construct with defaults and check parameters") {
  check_params(kvsim::scheduling::routing::routers(), [](const std::string& name, const kvsim::ParamValues& v) {
    return kvsim::scheduling::routing::make_router(name, v);
  });
  check_params(kvsim::scheduling::batching::batchers(), [](const std::string& name, const kvsim::ParamValues& v) {
    return kvsim::scheduling::batching::make_batcher(name, v);
  });
  // Eviction policies are constructed by tests/unit/test_eviction_conformance.cpp (they need
  // a cache state); here their parameters resolve like every other family's.
  check_params(kvsim::kvcache::eviction::policies(), [](const std::string& name, const kvsim::ParamValues& v) {
    return kvsim::kvcache::eviction::resolve_params(kvsim::kvcache::eviction::find_policy(name), v);
  });
}

TEST_CASE("registries: admission rules construct, commands and formats are complete") {
  for (const auto& a : kvsim::kvcache::admission::admission_rules()) {
    CAPTURE(a.name);
    CHECK(kvsim::kvcache::admission::make_admission(a.name, 100) != nullptr);
    CHECK(!a.help.empty());
  }
  for (const auto& c : kvsim::cli::commands()) {
    CAPTURE(c.name);
    CHECK(bool(c.run));
    CHECK(!c.help.empty());
    CHECK(!c.summary.empty());
  }
  for (const auto& f : kvsim::workload::trace_formats()) {
    CAPTURE(f.name);
    CHECK(bool(f.detect));
    CHECK(bool(f.open));
    CHECK(!f.summary.empty());
  }
  for (const auto& g : kvsim::workload::workload_generators()) {
    CAPTURE(g.name);
    CHECK(bool(g.bind));
    CHECK(!g.summary.empty());
  }
  for (const auto& m : kvsim::compute::step_time_models()) {
    CAPTURE(m.name);
    CHECK(bool(m.make));
    CHECK(!m.help.empty());
  }
}
