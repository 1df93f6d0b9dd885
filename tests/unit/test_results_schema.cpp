// The results schema is declared once (sim/results/schema.cpp): results/README.md must
// document every column of every table with the same unit, and the schema must describe
// the row structs exactly (every byte of a row belongs to at most one column).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "sim/results/records.hpp"
#include "sim/results/schema.hpp"

using namespace kvsim::results;

namespace {

// table path → column name → unit, from the README's "## `/path`" sections and their
// "| `name`, `name2` | type | unit | meaning |" rows.
std::map<std::string, std::map<std::string, std::string>> documented_columns() {
  std::ifstream in(std::string(KVSIM_SOURCE_DIR) + "/results/README.md");
  REQUIRE(in.good());
  std::map<std::string, std::map<std::string, std::string>> out;
  const std::regex heading(R"(^## `/([a-z_/]+)`)");
  const std::regex name(R"(`([a-z0-9_]+)`)");
  std::string table, line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) {
      table = m[1];
      continue;
    }
    if (line.starts_with("## ")) table.clear();
    if (table.empty() || !line.starts_with("| `")) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(cell);
    REQUIRE(cells.size() >= 3);
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    const std::string unit = trim(cells[2]);
    for (auto it = std::sregex_iterator(cells[0].begin(), cells[0].end(), name); it != std::sregex_iterator(); ++it)
      out[table][(*it)[1]] = unit;
  }
  return out;
}

}  // namespace

TEST_CASE("results schema: results/README.md documents every column with its unit") {
  const auto documented = documented_columns();
  for (const auto* table : all_tables()) {
    CAPTURE(table->path);
    REQUIRE(documented.contains(table->path));
    const auto& columns = documented.at(table->path);
    std::set<std::string> declared;
    for (const auto& c : table->columns) {
      CAPTURE(c.name);
      declared.insert(c.name);
      REQUIRE(columns.contains(c.name));
      CHECK(columns.at(c.name) == c.unit);
    }
    // And nothing documented that the file does not have.
    for (const auto& [documented_name, unit] : columns) {
      CAPTURE(documented_name);
      CHECK(declared.contains(documented_name));
    }
  }
}

TEST_CASE("results schema: columns lie inside their row and do not overlap") {
  for (const auto* table : all_tables()) {
    CAPTURE(table->path);
    std::vector<bool> used(table->row_size, false);
    for (const auto& c : table->columns) {
      CAPTURE(c.name);
      REQUIRE(c.offset + c.size <= table->row_size);
      for (std::size_t b = c.offset; b < c.offset + c.size; ++b) {
        CHECK_FALSE(used[b]);
        used[b] = true;
      }
    }
  }
  CHECK(requests_table().row_size == sizeof(RequestRecord));
  CHECK(summary_table().row_size == sizeof(Summary));
}

TEST_CASE("results schema: the JSON form names every table, column, numpy type and unit") {
  const std::string json = schema_json();
  CHECK(json.starts_with("{\"schema_version\":1,"));
  CHECK(json.find("\"timeseries/tier_occupancy\":[") != std::string::npos);
  CHECK(json.find("{\"name\":\"status\",\"type\":\"uint8\",\"unit\":\"-\"}") != std::string::npos);
  CHECK(json.find("{\"name\":\"name\",\"type\":\"S48\",\"unit\":\"-\"}") != std::string::npos);
  CHECK(json.find("\"status\":{\"completed\":0,\"rejected\":1,\"unfinished\":2}") != std::string::npos);
}
