// The results schema, declared once: every table of the results file with its columns
// (name, element type, unit, meaning) and where each column lives in the row struct. The
// HDF5 writer builds its compound types from it, `kvsim describe results [--json]` prints
// it (tools/check_results.py validates files against that JSON), and a test checks that
// results/README.md documents every column with its unit.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace kvsim::results {

inline constexpr int kSchemaVersion = 1;

enum class ColumnKind { u8_status, u32, i32, u64, i64, f64, fixed_string, u8 };

struct ColumnSpec {
  std::string name;
  ColumnKind kind;
  std::string unit;     // "-" for dimensionless counts and identifiers
  std::string meaning;  // one line (the README has the full text)
  std::size_t offset;   // in the row struct
  std::size_t size;     // bytes in the row struct (fixed strings: their length)
};

struct TableSpec {
  std::string path;  // "requests", "timeseries/tier_occupancy"
  std::size_t row_size;
  std::vector<ColumnSpec> columns;
};

const TableSpec& requests_table();
const TableSpec& tiers_table();
const TableSpec& links_table();
const TableSpec& tier_samples_table();
const TableSpec& instance_samples_table();
const TableSpec& link_samples_table();
const TableSpec& summary_table();
const TableSpec& slo_table();
const TableSpec& classes_table();
const TableSpec& energy_table();
const TableSpec& energy_samples_table();
const TableSpec& groups_table();
// Every table, in file order.
std::vector<const TableSpec*> all_tables();

// numpy's name of a column's element type ("uint64", "float64", "S48", "uint8" for the
// status enum).
std::string numpy_type(const ColumnSpec& column);
// The whole schema as one JSON object: {"schema_version": 1, "tables": {"requests":
// [{"name":..., "type":..., "unit":...}, ...], ...}, "status": {"completed": 0, ...}}.
std::string schema_json();

}  // namespace kvsim::results
