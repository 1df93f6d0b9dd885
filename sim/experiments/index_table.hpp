// A sweep's index: one row per point (id, axis values, seed, status, error, results file,
// summary figures), written as an HDF5 table (/index, a 1-D compound dataset like the
// results file's tables, so pandas reads it with `pd.DataFrame(f["index"][()])`) and a
// CSV twin with the same columns. Both are written to a temporary name and renamed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvsim::experiments {

struct IndexColumn {
  enum class Kind { integer, number, text };
  std::string name;
  Kind kind = Kind::number;
  std::vector<std::int64_t> integers;
  std::vector<double> numbers;
  std::vector<std::string> texts;

  std::size_t size() const;
};

struct IndexTable {
  std::vector<IndexColumn> columns;
  IndexColumn& column(const std::string& name, IndexColumn::Kind kind);  // finds or appends
};

void write_index_hdf5(const IndexTable& table, const std::string& path);
void write_index_csv(const IndexTable& table, const std::string& path);

// A CSV cell: quoted when it holds a comma, a quote or a line break.
std::string csv_cell(const std::string& text);
// Doubles with the shortest digits that read back exactly; NaN as "nan".
std::string number_text(double value);

}  // namespace kvsim::experiments
