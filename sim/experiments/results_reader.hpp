// Reads back what a sweep or plan needs from a point's results file.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kvsim::experiments {

// Every numeric column of /summary, in file order, as doubles. Generic on purpose: columns
// added to the summary later (SLO attainment, goodput...) reach sweep indexes and plans
// without touching this code. Throws std::runtime_error when the file cannot be read.
std::vector<std::pair<std::string, double>> read_summary(const std::string& path);

}  // namespace kvsim::experiments
