#include "sim/config/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace kvsim::config {

namespace {

struct Prefix {
  std::string_view symbol;
  double factor;
};

// Prefixes are matched exactly (the unit is split at the base symbol), so order only
// documents intent. Milli is deliberately absent: "2mB" is more likely a typo than a size.
constexpr std::array<Prefix, 12> kPrefixes{{{"Ki", 1024.0},
                                           {"Mi", 1048576.0},
                                           {"Gi", 1073741824.0},
                                           {"Ti", 1099511627776.0},
                                           {"Pi", 1125899906842624.0},
                                           {"k", 1e3},
                                           {"K", 1e3},
                                           {"M", 1e6},
                                           {"G", 1e9},
                                           {"T", 1e12},
                                           {"P", 1e15},
                                           {"", 1.0}}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "3.35TB/s" into 3.35 and "TB/s".
std::pair<double, std::string_view> split_number(std::string_view text, Dimension dim) {
  text = trim(text);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || !std::isfinite(value))
    throw std::invalid_argument("expected " + std::string(dimension_name(dim)) + " such as \"" +
                                std::string(example_value(dim)) + "\", got \"" + std::string(text) +
                                "\"");
  return {value, trim(std::string_view(end, text.data() + text.size() - end))};
}

// Factor of a prefix+base unit among the accepted base units, or 0 if not recognised.
double unit_factor(std::string_view unit, std::initializer_list<std::pair<std::string_view, double>> bases,
                   bool allow_binary) {
  for (const auto& [base, base_factor] : bases) {
    if (unit.size() < base.size() || unit.substr(unit.size() - base.size()) != base) continue;
    std::string_view prefix = unit.substr(0, unit.size() - base.size());
    for (const auto& p : kPrefixes) {
      if (p.symbol != prefix) continue;
      if (!allow_binary && p.symbol.size() == 2) continue;
      return p.factor * base_factor;
    }
  }
  return 0.0;
}

// Seconds per unit as multiplier / divisor: sub-second units divide, so that "5us" is the
// double nearest to 5e-6 (as the literal 5e-6 is), which 5 * 1e-6 is not.
struct TimeScale {
  double multiplier = 0.0;
  double divisor = 1.0;
};

TimeScale time_scale(std::string_view unit) {
  static constexpr std::array<std::pair<std::string_view, TimeScale>, 11> kTime{{{"ns", {1.0, 1e9}},
                                                                               {"us", {1.0, 1e6}},
                                                                               {"µs", {1.0, 1e6}},
                                                                               {"ms", {1.0, 1e3}},
                                                                               {"s", {1.0, 1.0}},
                                                                               {"sec", {1.0, 1.0}},
                                                                               {"min", {60.0, 1.0}},
                                                                               {"m", {60.0, 1.0}},
                                                                               {"h", {3600.0, 1.0}},
                                                                               {"d", {86400.0, 1.0}},
                                                                               {"", {1.0, 1.0}}}};
  for (const auto& [symbol, scale] : kTime)
    if (unit == symbol) return scale;
  return {};
}

}  // namespace

std::string_view dimension_name(Dimension dim) {
  switch (dim) {
    case Dimension::dimensionless: return "a number";
    case Dimension::time: return "a duration";
    case Dimension::bytes: return "a size in bytes";
    case Dimension::bandwidth: return "a bandwidth";
    case Dimension::flop_rate: return "a compute rate";
    case Dimension::power: return "a power";
  }
  return "a value";
}

std::string_view si_unit(Dimension dim) {
  switch (dim) {
    case Dimension::dimensionless: return "";
    case Dimension::time: return "s";
    case Dimension::bytes: return "B";
    case Dimension::bandwidth: return "B/s";
    case Dimension::flop_rate: return "FLOP/s";
    case Dimension::power: return "W";
  }
  return "";
}

std::string_view example_value(Dimension dim) {
  switch (dim) {
    case Dimension::dimensionless: return "10k";
    case Dimension::time: return "2ms";
    case Dimension::bytes: return "80GiB";
    case Dimension::bandwidth: return "3.35TB/s";
    case Dimension::flop_rate: return "989TFLOPS";
    case Dimension::power: return "700W";
  }
  return "";
}

double parse_quantity(std::string_view text, Dimension dim) {
  auto [value, unit] = split_number(text, dim);
  double factor = 0.0;
  double divisor = 1.0;
  switch (dim) {
    case Dimension::dimensionless: factor = unit_factor(unit, {{"", 1.0}}, false); break;
    case Dimension::time: {
      const TimeScale scale = time_scale(unit);
      factor = scale.multiplier;
      divisor = scale.divisor;
      break;
    }
    case Dimension::bytes: factor = unit_factor(unit, {{"B", 1.0}, {"", 1.0}}, true); break;
    case Dimension::bandwidth:
      factor = unit_factor(unit, {{"B/s", 1.0}, {"Bps", 1.0}, {"bps", 0.125}, {"b/s", 0.125}}, true);
      break;
    case Dimension::flop_rate:
      factor = unit_factor(unit, {{"FLOPS", 1.0}, {"FLOP/s", 1.0}, {"flops", 1.0}, {"", 1.0}}, false);
      break;
    case Dimension::power: factor = unit_factor(unit, {{"W", 1.0}, {"", 1.0}}, false); break;
  }
  if (factor == 0.0)
    throw std::invalid_argument("expected " + std::string(dimension_name(dim)) + " such as \"" +
                                std::string(example_value(dim)) + "\", got unit \"" +
                                std::string(unit) + "\" in \"" + std::string(trim(text)) + "\"");
  const double result = value * factor / divisor;
  if (!std::isfinite(result))
    throw std::invalid_argument("\"" + std::string(trim(text)) + "\" is too large for " + std::string(dimension_name(dim)));
  return result;
}

double bare_number_floor(Dimension dim) {
  switch (dim) {
    case Dimension::bytes: return 1048576.0;
    case Dimension::bandwidth: return 1e6;
    case Dimension::flop_rate: return 1e9;
    default: return 0.0;
  }
}

std::string_view likely_unit(Dimension dim) {
  switch (dim) {
    case Dimension::bytes: return "GiB";
    case Dimension::bandwidth: return "GB/s";
    case Dimension::flop_rate: return "TFLOPS";
    default: return "";
  }
}

std::string shortest_number(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buffer, end);
}

std::string binary_size_text(double bytes) {
  static constexpr std::array<std::pair<const char*, double>, 5> kBinary{
      {{"PiB", 1125899906842624.0}, {"TiB", 1099511627776.0}, {"GiB", 1073741824.0}, {"MiB", 1048576.0}, {"KiB", 1024.0}}};
  if (!(bytes >= 1024.0) || !std::isfinite(bytes)) return "";
  // The largest unit not above the value, or the one below it ("1536GiB" for 1.5 TiB); no
  // further, so that 80e9 B does not become "78125000KiB". Dividing by a power of two is
  // exact, so the count is whole exactly when the value is a multiple of the unit.
  for (std::size_t i = 0; i < kBinary.size(); ++i) {
    if (bytes < kBinary[i].second) continue;
    for (std::size_t j = i; j < std::min(i + 2, kBinary.size()); ++j) {
      const double count = bytes / kBinary[j].second;
      if (std::floor(count) == count && count < 9007199254740992.0) return shortest_number(count) + kBinary[j].first;
    }
    return "";
  }
  return "";
}

std::string format_quantity(double value, Dimension dim) {
  char buffer[64];
  if (dim == Dimension::time) {
    const double a = std::fabs(value);
    if (a != 0 && a < 1e-3)
      std::snprintf(buffer, sizeof buffer, "%.4g us", value * 1e6);
    else if (a != 0 && a < 1)
      std::snprintf(buffer, sizeof buffer, "%.4g ms", value * 1e3);
    else
      std::snprintf(buffer, sizeof buffer, "%.4g s", value);
    return buffer;
  }
  static constexpr std::array<std::pair<const char*, double>, 5> kScale{
      {{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}}};
  const char* prefix = "";
  double scaled = value;
  for (const auto& [symbol, factor] : kScale)
    if (std::fabs(value) >= factor) {
      prefix = symbol;
      scaled = value / factor;
      break;
    }
  const std::string unit = prefix + std::string(si_unit(dim));
  std::snprintf(buffer, sizeof buffer, unit.empty() ? "%.4g" : "%.4g %s", scaled, unit.c_str());
  return buffer;
}

}  // namespace kvsim::config
