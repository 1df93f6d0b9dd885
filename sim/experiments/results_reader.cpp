#include "sim/experiments/results_reader.hpp"

#include <stdexcept>

#include <hdf5.h>

namespace kvsim::experiments {

namespace {

// Closes an HDF5 identifier at scope exit.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

hid_t checked(hid_t id, const std::string& what, const std::string& path) {
  if (id < 0) throw std::runtime_error(path + ": cannot read " + what);
  return id;
}

// HDF5 prints its error stack on failures by default; a sweep reports failures itself.
struct QuietErrors {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

}  // namespace

std::vector<std::pair<std::string, double>> read_summary(const std::string& path) {
  QuietErrors quiet;
  Handle file{checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "the file", path), H5Fclose};
  Handle dataset{checked(H5Dopen2(file.id, "summary", H5P_DEFAULT), "/summary", path), H5Dclose};
  Handle type{checked(H5Dget_type(dataset.id), "/summary's type", path), H5Tclose};
  if (H5Tget_class(type.id) != H5T_COMPOUND) throw std::runtime_error(path + ": /summary is not a table");
  const int members = H5Tget_nmembers(type.id);
  std::vector<std::pair<std::string, double>> out;
  for (int m = 0; m < members; ++m) {
    const H5T_class_t cls = H5Tget_member_class(type.id, unsigned(m));
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) continue;
    char* raw_name = H5Tget_member_name(type.id, unsigned(m));
    const std::string name = raw_name;
    H5free_memory(raw_name);
    // A one-member memory type: HDF5 converts the column, by name, to a double.
    Handle memory{checked(H5Tcreate(H5T_COMPOUND, sizeof(double)), "a memory type", path), H5Tclose};
    H5Tinsert(memory.id, name.c_str(), 0, H5T_NATIVE_DOUBLE);
    double value = 0;
    if (H5Dread(dataset.id, memory.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0)
      throw std::runtime_error(path + ": cannot read /summary column " + name);
    out.emplace_back(name, value);
  }
  return out;
}

std::string read_resolved_config(const std::string& path) {
  QuietErrors quiet;
  Handle file{checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "the file", path), H5Fclose};
  Handle attribute{checked(H5Aopen(file.id, "config", H5P_DEFAULT), "the config attribute", path), H5Aclose};
  Handle type{checked(H5Aget_type(attribute.id), "the config attribute's type", path), H5Tclose};
  if (H5Tis_variable_str(type.id) > 0) {
    Handle memory{H5Tcopy(H5T_C_S1), H5Tclose};
    H5Tset_size(memory.id, H5T_VARIABLE);
    H5Tset_cset(memory.id, H5Tget_cset(type.id));
    char* text = nullptr;
    if (H5Aread(attribute.id, memory.id, &text) < 0) throw std::runtime_error(path + ": cannot read config");
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  const std::size_t size = H5Tget_size(type.id);
  std::string out(size, '\0');
  if (H5Aread(attribute.id, type.id, out.data()) < 0) throw std::runtime_error(path + ": cannot read config");
  out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
  return out;
}

}  // namespace kvsim::experiments
