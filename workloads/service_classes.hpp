// Service classes from scenario rules: `[[workload.classes]]` entries, each with
// `class = "online" | "offline"` and a match on the request's `category` (type name, such
// as "api" or "batch"), a `fraction` of requests (chosen by a hash of the seed and the
// request id, so the choice does not depend on arrival order or on other rules), or both.
// The first matching rule sets Request::priority (online 0, offline 1); a request no rule
// matches keeps the class its source gave it (a trace's priority field, the batch
// population's offline class).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/reader.hpp"
#include "workloads/request.hpp"

namespace kvsim::workload {

struct ClassRule {
  std::string category;   // "" = any
  double fraction = 1.0;  // share of the matching requests the rule takes
  std::uint8_t priority = 0;
};

// Reads workload.classes (an array of tables); empty when absent.
std::vector<ClassRule> read_class_rules(config::Section& workload_section);

// Wraps source so that its requests get their class from rules (seed keys the fractions).
std::unique_ptr<Source> classify(std::unique_ptr<Source> source, std::vector<ClassRule> rules, std::uint64_t seed);

}  // namespace kvsim::workload
