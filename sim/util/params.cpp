#include "sim/util/params.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"

namespace kvsim {

double Params::at(std::string_view name) const {
  const auto it = values.find(name);
  if (it == values.end()) throw std::logic_error("parameter not declared: " + std::string(name));
  return it->second;
}

Params resolve_params(std::span<const ParamSpec> specs, const ParamValues& overrides, std::string_view what,
                      const std::string& source, const std::string& field_prefix) {
  Params params;
  for (const auto& spec : specs) params.values.emplace(std::string(spec.name), spec.default_value);
  for (const auto& [key, value] : overrides) {
    const std::string field = field_prefix.empty() ? key : field_prefix + "." + key;
    auto it = params.values.find(key);
    if (it == params.values.end()) {
      std::vector<std::string> known;
      for (const auto& spec : specs) known.emplace_back(spec.name);
      std::string message = "unknown parameter \"" + key + "\" of " + std::string(what);
      if (known.empty()) {
        message += " (it has none)";
      } else {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        message += " (parameters: " + list + ")";
        if (auto near = config::closest_match(key, known); !near.empty()) message += "; did you mean \"" + near + "\"?";
      }
      throw InputError(source, 0, field, message);
    }
    if (!(value >= 0) || !std::isfinite(value)) throw InputError(source, 0, field, "expected a finite value >= 0");
    it->second = value;
  }
  return params;
}

std::string describe_params(std::span<const ParamSpec> specs, std::string_view indent) {
  std::ostringstream out;
  if (specs.empty()) out << indent << "(no parameters)\n";
  for (const auto& p : specs)
    out << indent << p.name << "  (number" << (p.unit.empty() ? "" : ", " + std::string(p.unit)) << ", default "
        << p.default_value << ")\n"
        << indent << "    " << p.help << "\n";
  return out.str();
}

}  // namespace kvsim
