// Admission rules of the lower KV tiers (models/kvcache/admission/): known answers worked by
// hand, and the registry's conformance (every name builds, a wrong name is refused with a
// suggestion).
#include <doctest/doctest.h>

#include "models/kvcache/admission/admission.hpp"
#include "sim/util/error.hpp"

using namespace kvsim::kvcache;
using admission::Offer;

namespace {
EvictedBlock block(kvsim::workload::BlockId id) { return {id, 0, 0}; }
}  // namespace

TEST_CASE("admission: demotion, completion and never take their kind of offer") {
  const auto demotion = admission::make_admission("demotion", 10);
  const auto completion = admission::make_admission("completion", 10);
  const auto never = admission::make_admission("never", 10);
  CHECK(demotion->takes(Offer::demotion));
  CHECK_FALSE(demotion->takes(Offer::write_through));
  CHECK(completion->takes(Offer::write_through));
  CHECK_FALSE(completion->takes(Offer::demotion));
  CHECK_FALSE(never->takes(Offer::demotion));
  CHECK_FALSE(never->takes(Offer::write_through));
  CHECK(demotion->admit(block(1), Offer::demotion, 0.0));
}

TEST_CASE("admission: second_touch admits a block on its second demotion, with a history as long as the tier") {
  const auto rule = admission::make_admission("second_touch", 2);
  CHECK(rule->takes(Offer::demotion));
  CHECK_FALSE(rule->takes(Offer::write_through));
  CHECK_FALSE(rule->admit(block(1), Offer::demotion, 0.0));  // first time: remembered
  CHECK(rule->admit(block(1), Offer::demotion, 1.0));        // second time: taken, forgotten
  CHECK_FALSE(rule->admit(block(1), Offer::demotion, 2.0));  // so a third is a first again
  // History of 2: after 2, 3, 4 the oldest remembered block (1 from the line above, then 2)
  // has been forgotten.
  CHECK_FALSE(rule->admit(block(2), Offer::demotion, 3.0));  // history 1, 2
  CHECK_FALSE(rule->admit(block(3), Offer::demotion, 4.0));  // history 2, 3
  CHECK_FALSE(rule->admit(block(4), Offer::demotion, 5.0));  // history 3, 4
  CHECK_FALSE(rule->admit(block(2), Offer::demotion, 6.0));  // forgotten: history 4, 2
  CHECK(rule->admit(block(4), Offer::demotion, 7.0));        // still remembered
}

TEST_CASE("admission: every registered rule builds, and a wrong name is refused with a suggestion") {
  for (const auto& info : admission::admission_rules()) {
    CAPTURE(info.name);
    CHECK(admission::make_admission(info.name, 4) != nullptr);
    CHECK_FALSE(info.help.empty());
  }
  CHECK_THROWS_WITH_AS(admission::make_admission("second-touch", 4),
                       doctest::Contains("unknown admission rule \"second-touch\" (valid: demotion, completion, never, "
                                         "second_touch); did you mean \"second_touch\"?"),
                       kvsim::InputError);
}
