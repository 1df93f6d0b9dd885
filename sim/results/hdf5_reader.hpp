// Reading a results file back (for `kvsim report`, sweep indexes and plan probes): the root attributes, and any table as
// columns of numbers or text, whatever columns the file has, so files written by builds
// with more or fewer /summary columns can still be read and compared. Failures are
// InputErrors naming the path.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/results/records.hpp"

namespace kvsim::results {

struct StoredColumn {
  std::string name;
  std::string unit;                // from the table's units attribute ("" when absent)
  bool numeric = true;
  std::vector<double> numbers;     // numeric columns (integers converted to double)
  std::vector<std::string> texts;  // fixed-string columns
};

struct StoredTable {
  std::size_t rows = 0;
  std::vector<StoredColumn> columns;  // in file order
  const StoredColumn* find(const std::string& name) const;
};

struct StoredRun {
  std::string path;
  std::map<std::string, std::string> text_attributes;  // kvsim_version, command_line, config, ...
  std::uint64_t seed = 0;
  StoredTable summary;
  StoredTable slo;      // empty when the file has no /slo (written before SLOs existed)
  StoredTable classes;  // empty when the file has no /classes
  StoredTable groups;   // empty when the file has no /groups
};

StoredRun read_run(const std::string& path);

// Every numeric column of /summary, in file order, as doubles. Generic on purpose: columns
// added to the summary later (SLO attainment, goodput...) reach sweep indexes and plans
// without touching their code.
std::vector<std::pair<std::string, double>> summary_numbers(const StoredRun& run);

// The Summary a run stored, field by field through the schema (columns the file lacks keep
// their defaults), with its /slo, /classes and /groups rows.
Summary summary_of(const StoredRun& run);

}  // namespace kvsim::results
