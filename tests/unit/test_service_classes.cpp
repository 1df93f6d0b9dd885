// Service classes assigned by [[workload.classes]] rules (workloads/service_classes.cpp):
// first matching rule wins, category names resolved against the source, fractions drawn
// per request id, unmatched requests keep their source's class, and malformed rules fail
// with the field named.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"
#include "workloads/service_classes.hpp"
#include "workloads/vector_source.hpp"

using kvsim::workload::ClassRule;
using kvsim::workload::Request;

namespace {

std::vector<ClassRule> rules_of(const std::string& text) {
  toml::table doc = kvsim::config::parse_toml(text, "classes.toml");
  auto context = std::make_shared<kvsim::config::ReadContext>();
  kvsim::config::Section root(&doc, "", context);
  kvsim::config::Section workload = root.table("workload");
  auto rules = kvsim::workload::read_class_rules(workload);
  workload.finish();
  return rules;
}

// n requests alternating categories 0 ("chat") and 1 ("api"); every 10th has priority 3.
std::vector<std::uint8_t> classes_after(const std::vector<ClassRule>& rules, std::size_t n, std::uint64_t seed = 7) {
  std::vector<Request> requests(n);
  for (std::size_t i = 0; i < n; ++i) {
    requests[i].id = i;
    requests[i].arrival = double(i);
    requests[i].category = std::uint16_t(i % 2);
    requests[i].priority = i % 10 == 0 ? 3 : 0;
  }
  auto source = kvsim::workload::classify(
      std::make_unique<kvsim::workload::VectorSource>(requests, std::vector<std::string>{"chat", "api"}), rules, seed);
  std::vector<std::uint8_t> out;
  while (auto r = source->next()) out.push_back(r->priority);
  return out;
}

}  // namespace

TEST_CASE("service classes: a category rule makes that type offline, others keep their class") {
  const auto c = classes_after(rules_of("[[workload.classes]]\ncategory = \"api\"\nclass = \"offline\"\n"), 20);
  for (std::size_t i = 0; i < c.size(); ++i) {
    CAPTURE(i);
    CHECK(c[i] == (i % 2 == 1 ? 1 : (i % 10 == 0 ? 3 : 0)));
  }
}

TEST_CASE("service classes: the first matching rule wins, an unknown category matches nothing") {
  const auto c = classes_after(rules_of("[[workload.classes]]\ncategory = \"chat\"\nclass = \"online\"\n"
                                        "[[workload.classes]]\ncategory = \"nope\"\nclass = \"offline\"\n"
                                        "[[workload.classes]]\nfraction = 1.0\nclass = \"offline\"\n"),
                               20);
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(c[i] == (i % 2 == 0 ? 0 : 1));
}

TEST_CASE("service classes: a fraction takes that share of requests, the same ones for the same seed") {
  // 10,000 requests, fraction 0.3: the count is Binomial(10000, 0.3), mean 3000, sd 45.8;
  // within 4 sd. The choice is keyed by id, so the same seed gives the same requests and a
  // different seed different ones.
  const auto rules = rules_of("[[workload.classes]]\nfraction = 0.3\nclass = \"offline\"\n");
  auto offline = [](const std::vector<std::uint8_t>& c) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < c.size(); ++i) n += (i % 10 != 0 && c[i] == 1);
    return n;
  };
  const auto a = classes_after(rules, 10000), b = classes_after(rules, 10000), d = classes_after(rules, 10000, 8);
  const double share = double(offline(a)) / 9000.0;
  // Requests with a priority of their own (every 10th) also draw, but are left out here.
  CHECK(std::abs(share - 0.3) < 4 * std::sqrt(0.3 * 0.7 / 9000.0));
  CHECK(a == b);
  CHECK(a != d);
}

TEST_CASE("service classes: malformed rules name their field") {
  CHECK_THROWS_WITH_AS(rules_of("[[workload.classes]]\nclass = \"offline\"\n"),
                       doctest::Contains("workload.classes[0].class"), kvsim::InputError);
  CHECK_THROWS_WITH_AS(rules_of("[[workload.classes]]\ncategory = \"api\"\nclass = \"batchy\"\n"),
                       doctest::Contains("workload.classes[0].class"), kvsim::InputError);
  CHECK_THROWS_WITH_AS(rules_of("[[workload.classes]]\nfraction = 1.5\n"), doctest::Contains("fraction"),
                       kvsim::InputError);
  CHECK_THROWS_WITH_AS(rules_of("[[workload.classes]]\nfraction = 0.5\ncolour = 1\n"), doctest::Contains("colour"),
                       kvsim::InputError);
  CHECK_THROWS_WITH_AS(rules_of("[workload]\nclasses = 3\n"), doctest::Contains("array of tables"), kvsim::InputError);
}

TEST_CASE("service classes: a category the source names only later is matched from then on") {
  // A source that learns its category names as it reads (as trace readers do): "api" is
  // named only when its first request is read.
  class Growing final : public kvsim::workload::Source {
   public:
    std::optional<Request> next() override {
      if (n_ == 4) return std::nullopt;
      Request r;
      r.id = n_;
      r.arrival = double(n_);
      r.category = n_ < 2 ? 0 : 1;
      if (n_ == 2) names_.push_back("api");
      ++n_;
      return r;
    }
    const std::vector<std::string>& categories() const override { return names_; }

   private:
    std::uint64_t n_ = 0;
    std::vector<std::string> names_{"chat"};
  };
  auto source = kvsim::workload::classify(std::make_unique<Growing>(),
                                          rules_of("[[workload.classes]]\ncategory = \"api\"\nclass = \"offline\"\n"), 1);
  std::vector<std::uint8_t> c;
  while (auto r = source->next()) c.push_back(r->priority);
  CHECK(c == std::vector<std::uint8_t>{0, 0, 1, 1});
}
