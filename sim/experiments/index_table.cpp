#include "sim/experiments/index_table.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

#include <hdf5.h>

namespace kvsim::experiments {

std::size_t IndexColumn::size() const {
  switch (kind) {
    case Kind::integer: return integers.size();
    case Kind::number: return numbers.size();
    case Kind::text: return texts.size();
  }
  return 0;
}

IndexColumn& IndexTable::column(const std::string& name, IndexColumn::Kind kind) {
  for (auto& c : columns)
    if (c.name == name) return c;
  columns.push_back({name, kind, {}, {}, {}});
  return columns.back();
}

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "nan";
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

std::string temp_name(const std::string& path) { return path + ".tmp-" + std::to_string(::getpid()); }

void put_in_place(const std::string& temp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

}  // namespace

void write_index_csv(const IndexTable& table, const std::string& path) {
  const std::string temp = temp_name(path);
  {
    std::ofstream out(temp, std::ios::binary);
    if (!out) throw std::runtime_error("cannot write " + path);
    for (std::size_t c = 0; c < table.columns.size(); ++c) out << (c ? "," : "") << csv_cell(table.columns[c].name);
    out << "\n";
    const std::size_t rows = table.columns.empty() ? 0 : table.columns.front().size();
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < table.columns.size(); ++c) {
        const auto& col = table.columns[c];
        out << (c ? "," : "");
        switch (col.kind) {
          case IndexColumn::Kind::integer: out << col.integers[r]; break;
          case IndexColumn::Kind::number: out << number_text(col.numbers[r]); break;
          case IndexColumn::Kind::text: out << csv_cell(col.texts[r]); break;
        }
      }
      out << "\n";
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
  }
  put_in_place(temp, path);
}

void write_index_hdf5(const IndexTable& table, const std::string& path) {
  const std::string temp = temp_name(path);
  const std::size_t rows = table.columns.empty() ? 0 : table.columns.front().size();
  // Packed row layout: int64, double, or a fixed, NUL-padded string as wide as the column's
  // longest cell (at least 1 byte).
  std::vector<std::size_t> offsets, widths;
  std::size_t row_size = 0;
  for (const auto& c : table.columns) {
    std::size_t width = 8;
    if (c.kind == IndexColumn::Kind::text) {
      width = 1;
      for (const auto& t : c.texts) width = std::max(width, t.size());
    }
    offsets.push_back(row_size);
    widths.push_back(width);
    row_size += width;
  }
  std::vector<char> data(std::max<std::size_t>(1, rows * row_size), '\0');
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      char* cell = data.data() + r * row_size + offsets[c];
      const auto& col = table.columns[c];
      switch (col.kind) {
        case IndexColumn::Kind::integer: std::memcpy(cell, &col.integers[r], 8); break;
        case IndexColumn::Kind::number: std::memcpy(cell, &col.numbers[r], 8); break;
        case IndexColumn::Kind::text: std::memcpy(cell, col.texts[r].data(), col.texts[r].size()); break;
      }
    }

  bool ok = false;
  const hid_t file = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file >= 0) {
    const hid_t type = H5Tcreate(H5T_COMPOUND, std::max<std::size_t>(1, row_size));
    std::vector<hid_t> string_types;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      const auto& col = table.columns[c];
      hid_t member = H5T_NATIVE_INT64;
      if (col.kind == IndexColumn::Kind::number) member = H5T_NATIVE_DOUBLE;
      if (col.kind == IndexColumn::Kind::text) {
        member = H5Tcopy(H5T_C_S1);
        H5Tset_size(member, widths[c]);
        H5Tset_strpad(member, H5T_STR_NULLPAD);
        H5Tset_cset(member, H5T_CSET_UTF8);
        string_types.push_back(member);
      }
      H5Tinsert(type, col.name.c_str(), offsets[c], member);
    }
    const hsize_t dims[1] = {rows};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t dataset = H5Dcreate2(file, "index", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ok = dataset >= 0 && (rows == 0 || H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0);
    if (dataset >= 0) H5Dclose(dataset);
    H5Sclose(space);
    for (const hid_t s : string_types) H5Tclose(s);
    H5Tclose(type);
    ok = H5Fclose(file) >= 0 && ok;
  }
  if (!ok) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw std::runtime_error("cannot write " + path + " (HDF5)");
  }
  put_in_place(temp, path);
}

}  // namespace kvsim::experiments
