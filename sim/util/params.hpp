// Numeric parameters of a pluggable variant (an eviction policy, a router, a batcher, a
// step-time model): each variant declares its ParamSpecs in its registry entry, the scenario
// supplies overrides, and resolve_params fills in the defaults and rejects unknown names
// with the valid ones and the closest match. `kvsim describe` prints the same specs, so the
// documentation cannot drift from what the code accepts.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsim {

struct ParamSpec {
  std::string_view name;
  double default_value;
  std::string_view unit;  // "" for a plain number; "s", "B", "tokens", ... otherwise
  std::string_view help;
};

using ParamValues = std::map<std::string, double, std::less<>>;

// A variant's parameters after resolution: every declared name has a value.
struct Params {
  ParamValues values;
  // The value of a declared parameter; std::logic_error for a name the variant did not
  // declare (a programming error, not an input error).
  double at(std::string_view name) const;
};

// Defaults of specs overridden by overrides. An override whose name is not declared, or
// whose value is not finite and >= 0, is an InputError at (source, field_prefix + "." + name)
// that lists the declared names and suggests the closest; `what` names the variant for the
// message ("router \"power_of_two\"").
Params resolve_params(std::span<const ParamSpec> specs, const ParamValues& overrides, std::string_view what,
                      const std::string& source, const std::string& field_prefix);

// One line per parameter: name, unit, default and help, indented by indent; "(no parameters)"
// when there are none. Shared by `kvsim describe` for every family.
std::string describe_params(std::span<const ParamSpec> specs, std::string_view indent = "  ");

}  // namespace kvsim
