#include <charconv>

#include "sim/cli/command.hpp"
#include "sim/util/error.hpp"

namespace kvsim::cli {

Args::Args(std::string command, std::vector<std::string> args)
    : command_(std::move(command)), args_(std::move(args)), used_(args_.size(), false) {}

void Args::fail(const std::string& message) const {
  throw InputError("command line", 0, "", message + " (see kvsim " + command_ + " --help)");
}

bool Args::matches(const std::string& arg, std::string_view name, std::string_view alias) const {
  return arg == name || (!alias.empty() && arg == alias);
}

bool Args::flag(std::string_view name, std::string_view alias) {
  bool found = false;
  for (std::size_t i = 0; i < args_.size(); ++i)
    if (!used_[i] && matches(args_[i], name, alias)) found = used_[i] = true;
  return found;
}

std::vector<std::string> Args::values(std::string_view name, std::string_view alias) {
  std::vector<std::string> found;
  const std::string prefix = std::string(name) + "=";
  for (std::size_t i = 0; i < args_.size(); ++i) {
    if (used_[i]) continue;
    if (matches(args_[i], name, alias)) {
      if (i + 1 >= args_.size()) fail(std::string(name) + " needs a value");
      used_[i] = used_[i + 1] = true;
      found.push_back(args_[++i]);
    } else if (args_[i].starts_with(prefix)) {
      used_[i] = true;
      found.push_back(args_[i].substr(prefix.size()));
    }
  }
  return found;
}

std::optional<std::string> Args::value(std::string_view name, std::string_view alias) {
  auto all = values(name, alias);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::optional<std::uint64_t> Args::unsigned_value(std::string_view name, std::string_view alias) {
  const auto text = value(name, alias);
  if (!text) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec == std::errc::result_out_of_range)
    throw InputError("command line", 0, std::string(name),
                     "expected an integer between 0 and 2^64-1 (18446744073709551615), got \"" + *text + "\"");
  if (ec != std::errc() || end != text->data() + text->size() || text->empty())
    throw InputError("command line", 0, std::string(name), "expected a non-negative integer, got \"" + *text + "\"");
  return v;
}

std::optional<double> Args::number_value(std::string_view name, std::string_view alias) {
  const auto text = value(name, alias);
  if (!text) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || text->empty())
    throw InputError("command line", 0, std::string(name), "expected a number, got \"" + *text + "\"");
  return v;
}

std::vector<std::string> Args::positionals() {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args_.size(); ++i) {
    if (used_[i]) continue;
    if (args_[i].size() > 1 && args_[i][0] == '-') fail("unknown option " + args_[i]);
    rest.push_back(args_[i]);
  }
  return rest;
}

}  // namespace kvsim::cli
