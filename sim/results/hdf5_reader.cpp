#include "sim/results/hdf5_reader.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include <hdf5.h>

#include "sim/results/schema.hpp"
#include "sim/util/error.hpp"

namespace kvsim::results {

namespace {

// Closes an HDF5 identifier with the given function when it goes out of scope.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
  operator hid_t() const { return id; }  // NOLINT: straight into H5 calls
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(path, 0, "", what);
}

std::string read_string_attribute(hid_t object, const char* name) {
  const Handle attribute{H5Aopen(object, name, H5P_DEFAULT), H5Aclose};
  if (attribute < 0) return "";
  const Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  char* text = nullptr;
  if (H5Aread(attribute, type, &text) < 0 || text == nullptr) return "";
  std::string out(text);
  H5free_memory(text);
  return out;
}

std::vector<std::string> read_units(hid_t dataset) {
  std::vector<std::string> units;
  if (H5Aexists(dataset, "units") <= 0) return units;
  const Handle attribute{H5Aopen(dataset, "units", H5P_DEFAULT), H5Aclose};
  const Handle space{H5Aget_space(attribute), H5Sclose};
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  const Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<char*> texts(static_cast<std::size_t>(std::max<hssize_t>(n, 0)), nullptr);
  if (n <= 0 || H5Aread(attribute, type, texts.data()) < 0) return units;
  for (char* t : texts) {
    units.emplace_back(t ? t : "");
    H5free_memory(t);
  }
  return units;
}

StoredTable read_table(const std::string& path, hid_t file, const char* name, bool required) {
  StoredTable table;
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    if (required) fail(path, std::string("not a kvsim results file: no /") + name + " table");
    return table;
  }
  const Handle dataset{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
  const Handle space{H5Dget_space(dataset), H5Sclose};
  const Handle file_type{H5Dget_type(dataset), H5Tclose};
  if (dataset < 0 || H5Tget_class(file_type) != H5T_COMPOUND) fail(path, std::string("/") + name + " is not a table");
  table.rows = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
  const std::vector<std::string> units = read_units(dataset);
  const int members = H5Tget_nmembers(file_type);
  for (int i = 0; i < members; ++i) {
    StoredColumn column;
    char* member_name = H5Tget_member_name(file_type, unsigned(i));
    column.name = member_name;
    H5free_memory(member_name);
    if (std::size_t(i) < units.size()) column.unit = units[std::size_t(i)];
    const H5T_class_t kind = H5Tget_member_class(file_type, unsigned(i));
    // One member at a time, converted by HDF5 into a one-member memory type.
    if (kind == H5T_INTEGER || kind == H5T_FLOAT) {
      const Handle memory{H5Tcreate(H5T_COMPOUND, sizeof(double)), H5Tclose};
      H5Tinsert(memory, column.name.c_str(), 0, H5T_NATIVE_DOUBLE);
      column.numbers.resize(table.rows);
      if (table.rows > 0 && H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, column.numbers.data()) < 0)
        fail(path, "cannot read /" + std::string(name) + "." + column.name);
    } else if (kind == H5T_STRING) {
      const Handle member{H5Tget_member_type(file_type, unsigned(i)), H5Tclose};
      const std::size_t size = H5Tget_size(member);
      const Handle text{H5Tcopy(H5T_C_S1), H5Tclose};
      H5Tset_size(text, size);
      H5Tset_strpad(text, H5T_STR_NULLPAD);
      const Handle memory{H5Tcreate(H5T_COMPOUND, size), H5Tclose};
      H5Tinsert(memory, column.name.c_str(), 0, text);
      std::vector<char> buffer(size * table.rows);
      if (table.rows > 0 && H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
        fail(path, "cannot read /" + std::string(name) + "." + column.name);
      column.numeric = false;
      for (std::size_t r = 0; r < table.rows; ++r) {
        const char* start = buffer.data() + r * size;
        column.texts.emplace_back(start, strnlen(start, size));
      }
    } else {
      continue;  // enums (request status) are not needed by the report
    }
    table.columns.push_back(std::move(column));
  }
  return table;
}

}  // namespace

const StoredColumn* StoredTable::find(const std::string& name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

StoredRun read_run(const std::string& path) {
  StoredRun run;
  run.path = path;
  if (!std::filesystem::is_regular_file(path)) fail(path, "no such results file");
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, "not an HDF5 file");
  // HDF5 prints its error stack by default; the report says what went wrong itself.
  H5E_auto2_t saved_func = nullptr;
  void* saved_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &saved_func, &saved_data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  struct Restore {
    H5E_auto2_t func;
    void* data;
    ~Restore() { H5Eset_auto2(H5E_DEFAULT, func, data); }
  } restore{saved_func, saved_data};

  const Handle file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (file < 0) fail(path, "cannot open the results file");
  for (const char* name : {"kvsim_version", "git_revision", "simgrid_version", "command_line", "config",
                           "workload_report"})
    run.text_attributes[name] = read_string_attribute(file, name);
  if (H5Aexists(file, "seed") > 0) {
    const Handle attribute{H5Aopen(file, "seed", H5P_DEFAULT), H5Aclose};
    H5Aread(attribute, H5T_NATIVE_UINT64, &run.seed);
  }
  run.summary = read_table(path, file, "summary", true);
  if (run.summary.rows != 1) fail(path, "/summary has " + std::to_string(run.summary.rows) + " rows, expected 1");
  run.slo = read_table(path, file, "slo", false);
  run.classes = read_table(path, file, "classes", false);
  run.groups = read_table(path, file, "groups", false);
  return run;
}

std::vector<std::pair<std::string, double>> summary_numbers(const StoredRun& run) {
  std::vector<std::pair<std::string, double>> out;
  for (const StoredColumn& column : run.summary.columns)
    if (column.numeric) out.emplace_back(column.name, column.numbers.at(0));
  return out;
}

namespace {

// Sets the numeric members of the struct at base from row `row` of a stored table, through
// the table's schema; columns the file lacks keep their defaults.
void fill_from_row(const TableSpec& spec_table, const StoredTable& table, std::size_t row, void* base) {
  for (const ColumnSpec& spec : spec_table.columns) {
    const StoredColumn* column = table.find(spec.name);
    if (column && !column->numeric && spec.kind == ColumnKind::fixed_string) {
      char* text = static_cast<char*>(base) + spec.offset;
      std::strncpy(text, column->texts[row].c_str(), spec.size - 1);
      continue;
    }
    if (!column || !column->numeric) continue;
    const double v = column->numbers[row];
    char* at = static_cast<char*>(base) + spec.offset;
    switch (spec.kind) {
      case ColumnKind::f64: std::memcpy(at, &v, sizeof v); break;
      case ColumnKind::u64: {
        const auto n = static_cast<std::uint64_t>(v);
        std::memcpy(at, &n, sizeof n);
        break;
      }
      case ColumnKind::u32: {
        const auto n = static_cast<std::uint32_t>(v);
        std::memcpy(at, &n, sizeof n);
        break;
      }
      case ColumnKind::u8: {
        const auto n = static_cast<std::uint8_t>(v);
        std::memcpy(at, &n, sizeof n);
        break;
      }
      default: break;  // /summary, /classes and /groups have no other kinds
    }
  }
}

}  // namespace

Summary summary_of(const StoredRun& run) {
  Summary s;
  fill_from_row(summary_table(), run.summary, 0, &s);
  for (std::size_t r = 0; r < run.classes.rows; ++r) {
    ClassRecord c;
    fill_from_row(classes_table(), run.classes, r, &c);
    s.classes.push_back(c);
  }
  for (std::size_t r = 0; r < run.groups.rows; ++r) {
    GroupRecord g;
    fill_from_row(groups_table(), run.groups, r, &g);
    s.groups.push_back(g);
  }
  const StoredColumn* names = run.slo.find("name");
  const StoredColumn* limits = run.slo.find("limit");
  const StoredColumn* measured = run.slo.find("measured");
  const StoredColumn* margins = run.slo.find("margin");
  const StoredColumn* passes = run.slo.find("pass");
  if (names && limits && measured && margins && passes) {
    for (std::size_t r = 0; r < run.slo.rows; ++r) {
      SloRecord rec;
      std::strncpy(rec.name, names->texts[r].c_str(), sizeof rec.name - 1);
      rec.limit = limits->numbers[r];
      rec.measured = measured->numbers[r];
      rec.margin = margins->numbers[r];
      rec.pass = passes->numbers[r] != 0 ? 1 : 0;
      s.slo.push_back(rec);
    }
  }
  return s;
}

}  // namespace kvsim::results
