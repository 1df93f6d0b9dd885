// One registry for every pluggable family (eviction policies, routers, step-time models,
// workload generators, trace formats, CLI commands): the family's entries in registry
// order, lookup by name, and the error for a wrong name, which lists the valid names and
// suggests the closest one. An entry is any struct with `name` and `help` members (strings
// or string views); the family's own fields (factory, parameter specs) stay its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"

namespace kvsim {

template <class Entry>
class Registry {
 public:
  // family: what the entries are, for messages ("eviction policy", "router").
  Registry(std::string family, std::vector<Entry> entries) : family_(std::move(family)), entries_(std::move(entries)) {}

  const std::string& family() const { return family_; }
  const std::vector<Entry>& entries() const { return entries_; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  std::size_t size() const { return entries_.size(); }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.emplace_back(e.name);
    return out;
  }

  const Entry* find(std::string_view name) const {
    for (const auto& e : entries_)
      if (std::string_view(e.name) == name) return &e;
    return nullptr;
  }

  // The entry called name; else an InputError naming source and field (where the name was
  // read), listing the valid names and suggesting the closest.
  const Entry& at(std::string_view name, const std::string& source = "command line",
                  const std::string& field = "") const {
    if (const Entry* e = find(name)) return *e;
    throw InputError(source, 0, field.empty() ? family_ : field, unknown_message(name));
  }

  std::string unknown_message(std::string_view name) const {
    const auto valid = names();
    std::string list;
    for (const auto& n : valid) list += (list.empty() ? "" : ", ") + n;
    std::string message = "unknown " + family_ + " \"" + std::string(name) + "\" (valid: " + list + ")";
    if (auto near = config::closest_match(name, valid); !near.empty()) message += "; did you mean \"" + near + "\"?";
    return message;
  }

 private:
  std::string family_;
  std::vector<Entry> entries_;
};

}  // namespace kvsim
