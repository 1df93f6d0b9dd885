// kvsim's measured-operator tables: CSV files of kernel times against operator, GPU, model
// geometry, TP and batch shape (schema in models/compute/calibration/README.md). Calibration
// fits the analytical model to them; the profile model and validation read them too.
#pragma once

#include <string>
#include <vector>

#include "models/compute/operators.hpp"

namespace kvsim::compute {

struct MeasuredKernel {
  std::string gpu;       // GPU card name the row was measured on
  std::string model;     // model name (informational)
  OperatorShape shape;
  double time = 0;       // s (the file holds µs)
  bool holdout = false;  // split = holdout: never fitted, only used to report errors
  long line = 0;         // line in its file, for messages
};

extern const char* const kOperatorTableHeader;  // the header line of the schema

// Reads a table; throws InputError naming file, line and column on any malformed row.
std::vector<MeasuredKernel> read_operator_table(const std::string& path);
std::vector<MeasuredKernel> parse_operator_table(const std::string& text, const std::string& source);
// One row in the schema (no trailing newline); `predicted` (s) adds a predicted_us column.
std::string format_operator_row(const MeasuredKernel& row, const double* predicted = nullptr);

}  // namespace kvsim::compute
