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

}  // namespace kvsim::experiments
