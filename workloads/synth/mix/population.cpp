// Shared pieces of the mix populations (see population.hpp).
#include "workloads/synth/mix/population.hpp"

#include <algorithm>

#include "sim/config/reader.hpp"

namespace kvsim::workload::mix {

namespace {

TypeSpec parse_type(config::Section& s, const TypeSpec& d, const TypeFields& f,
                    const std::optional<std::string>& base_dir) {
  using config::Range;
  TypeSpec t = d;
  t.weight = s.number("weight", d.weight, "Relative share of this type (weights are normalised).",
                      Range::non_negative());
  t.message = parse_length(s, "message", d.message,
                           "the new tokens of each request (user message, unique suffix, tool result)", base_dir);
  if (f.first_message)
    t.first_message = parse_length(s, "first_message", d.first_message,
                                   "the new tokens of a session's first turn (after its shared prompt)", base_dir);
  t.output = parse_length(s, "output", d.output, "output tokens", base_dir);
  if (f.think_time)
    t.think_time = parse_time(s, "think_time", d.think_time,
                              "the gap from a turn's arrival to the next turn's (open loop; recorded as the "
                              "request's think_time)");
  if (f.context_carry)
    t.context_carry = s.number(
        "context_carry", d.context_carry,
        "Probability that a follow-up turn carries the session's previous context (previous input + output) "
        "before its message; otherwise the history is dropped (a new topic in the same session, or a front-end "
        "resetting a long history) and the turn is the shared prompt + its message, which later turns grow "
        "from. 1 = always carry.",
        Range::fraction());
  if (f.prompts) {
    t.prompts = static_cast<std::uint32_t>(
        s.integer("prompts", d.prompts, "Distinct shared prompts of this type (0 = none).", 0, 10'000'000));
    t.prompt = parse_length(s, "prompt", d.prompt, "shared prompt lengths (drawn once per prompt)", base_dir);
    t.prompt_zipf = s.number("prompt_zipf", d.prompt_zipf,
                             "Zipf exponent of the shared prompts' popularity (0 = uniform).", Range::non_negative());
  }
  s.finish();
  return t;
}

}  // namespace

std::vector<TypeSpec> parse_types(config::Section& section, const TypeSpec& d, const TypeFields& fields,
                                  const std::optional<std::string>& base_dir) {
  std::vector<TypeSpec> types;
  const toml::node* node = section.raw("types");
  config::Section table = section.table("types");
  if (!node) {
    // No table: the single default type, read from an empty section so that it is
    // documented and recorded in the resolved config.
    config::Section empty = table.table(d.name);
    types.push_back(parse_type(empty, d, fields, base_dir));
    return types;
  }
  for (const auto& [key, value] : *node->as_table()) {
    config::Section sub = table.table(key.str());
    TypeSpec t = parse_type(sub, d, fields, base_dir);
    t.name = std::string(key.str());
    types.push_back(std::move(t));
  }
  if (types.empty()) section.fail("types", "expected at least one type");
  double total = 0;
  for (const auto& t : types) total += t.weight;
  if (!(total > 0)) section.fail("types", "expected at least one type with weight > 0");
  return types;
}

TypePicker::TypePicker(const std::vector<TypeSpec>& types) {
  double total = 0;
  for (const auto& t : types) cdf_.push_back(total += t.weight);
  for (auto& c : cdf_) c /= total;
  cdf_.back() = 1.0;
}

std::uint16_t TypePicker::pick(Rng& rng) const {
  if (cdf_.size() == 1) return 0;
  const double u = rng.uniform01();
  return static_cast<std::uint16_t>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
}

std::size_t ContentPool::add_prompts(std::uint32_t n, const LengthDist& dist, Rng& rng) {
  const std::size_t first = prompt_lengths_.size();
  for (std::uint32_t i = 0; i < n; ++i) prompt_lengths_.push_back(dist.draw(rng));
  return first;
}

LimitSpec parse_limits(config::Section& s, const LimitSpec& d) {
  constexpr std::int64_t kMax = std::int64_t{1} << 30;
  LimitSpec l;
  l.max_input = static_cast<std::uint32_t>(
      s.integer("max_input", d.max_input, "Largest input in tokens (a later turn that would exceed it ends its "
                                          "session; first turns are truncated).", 2, kMax));
  l.max_output = static_cast<std::uint32_t>(
      s.integer("max_output", d.max_output, "Largest output in tokens (outputs are clamped).", 1, kMax));
  l.max_context = static_cast<std::uint32_t>(
      s.integer("max_context", d.max_context, "Largest input + output of one request.", 3, kMax));
  return l;
}

}  // namespace kvsim::workload::mix
