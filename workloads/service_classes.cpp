#include "workloads/service_classes.hpp"

#include <algorithm>

#include "sim/util/error.hpp"

namespace kvsim::workload {

namespace {

class ClassifiedSource final : public Source {
 public:
  ClassifiedSource(std::unique_ptr<Source> inner, std::vector<ClassRule> rules, std::uint64_t seed)
      : inner_(std::move(inner)), rules_(std::move(rules)), seed_(seed) {}

  std::optional<Request> next() override {
    auto r = inner_->next();
    if (!r) return r;
    // A source may name categories as it meets them (traces): resolve again when it has.
    if (inner_->categories().size() != resolved_names_) resolve_categories();
    const double u = double(mix64(seed_ ^ mix64(r->id + 0x632be59bd9b4e019ULL)) >> 11) * 0x1.0p-53;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      const ClassRule& rule = rules_[i];
      if (!rule.category.empty() && category_of_rule_[i] != int(r->category)) continue;
      if (u >= rule.fraction) continue;
      r->priority = rule.priority;
      break;
    }
    return r;
  }
  std::uint64_t expected_count() const override { return inner_->expected_count(); }
  double progress(double now) const override { return inner_->progress(now); }
  const std::vector<std::string>& categories() const override { return inner_->categories(); }
  std::vector<std::pair<std::string, std::uint64_t>> report() const override { return inner_->report(); }

 private:
  // Category names to the source's indices (-1: the source has no such category (yet), so
  // the rule matches nothing).
  void resolve_categories() {
    const auto& names = inner_->categories();
    resolved_names_ = names.size();
    category_of_rule_.clear();
    for (const auto& rule : rules_) {
      const auto it = std::find(names.begin(), names.end(), rule.category);
      category_of_rule_.push_back(it == names.end() ? -1 : int(it - names.begin()));
    }
  }

  std::unique_ptr<Source> inner_;
  std::vector<ClassRule> rules_;
  std::uint64_t seed_;
  std::vector<int> category_of_rule_;
  std::size_t resolved_names_ = ~std::size_t{0};
};

}  // namespace

std::vector<ClassRule> read_class_rules(config::Section& workload_section) {
  std::vector<ClassRule> rules;
  static const std::vector<std::string> kClasses{"online", "offline"};
  for (config::Section& s : workload_section.tables("classes")) {
    ClassRule rule;
    const std::string name = s.choice("class", "offline", kClasses, "service class the rule assigns");
    rule.priority = name == "online" ? 0 : 1;
    rule.category = s.text("category", "", "request type (category name) the rule applies to; \"\" = any");
    rule.fraction = s.number("fraction", 1.0, "share of the matching requests the rule takes", {0, 1, true});
    if (!s.has("category") && !s.has("fraction"))
      s.fail("class", "a class rule needs a category, a fraction, or both (otherwise it would take every request)");
    s.finish();
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::unique_ptr<Source> classify(std::unique_ptr<Source> source, std::vector<ClassRule> rules, std::uint64_t seed) {
  if (rules.empty()) return source;
  return std::make_unique<ClassifiedSource>(std::move(source), std::move(rules), seed);
}

}  // namespace kvsim::workload
