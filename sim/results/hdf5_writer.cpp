// The run's HDF5 results file (schema documented in results/README.md, schema_version 1).
//
// Every table is a 1-D compound dataset described by a list of columns (name, C++ member,
// unit); the HDF5 types are derived from the member's C++ type, so a column can never be
// declared with a type that disagrees with the struct. New tables (per-tier counters,
// per-instance time series) are one more column list and one more write_table() call.
//
// Files appear only complete: everything is written to "<path>.tmp-<pid>" and renamed once
// every handle is closed; any failure removes the temporary file and becomes an InputError
// naming the path, because an unwritable output path is a user input problem.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <hdf5.h>

#include "sim/results/records.hpp"
#include "sim/results/schema.hpp"
#include "sim/util/error.hpp"
#include "sim/util/interrupt.hpp"
#include "sim/util/output_file.hpp"

namespace kvsim::results {

namespace {

constexpr unsigned deflate_level = 4;
// About 1 MiB of rows per chunk: large enough for deflate to work well, small enough that
// reading a few rows does not decompress megabytes.
constexpr std::size_t chunk_bytes = 1 << 20;

// Internal failure; write_hdf5 turns it into an InputError naming the output path.
struct WriteFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The most specific message on HDF5's error stack (the deepest frame), e.g.
// "unable to open file: name = '...', errno = 13, error message = 'Permission denied'".
std::string hdf5_error_detail() {
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
        if (error->desc != nullptr && error->desc[0] != '\0') {
          *static_cast<std::string*>(data) = error->desc;
        }
        return 0;
      },
      &detail);
  H5Eclear2(H5E_DEFAULT);
  // A failed system call is described over several lines (time, file name, descriptor,
  // errno, buffer...); its error message is what the user needs.
  const std::string marker = "error message = '";
  if (const auto at = detail.find(marker); at != std::string::npos) {
    const auto start = at + marker.size();
    return detail.substr(start, detail.find('\'', start) - start);
  }
  return detail.substr(0, detail.find('\n'));
}

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = hdf5_error_detail();
  throw WriteFailure(detail.empty() ? what : what + " (HDF5: " + detail + ")");
}

hid_t check_id(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

// Owns one HDF5 identifier of any kind (file, dataset, type, space, property list, attribute).
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(hid_t id, const std::string& what) : id_(check_id(id, what)) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Hid() { reset(); }

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: lets a Hid go straight into H5 calls

  // Closing may flush (a file's close writes its metadata), so the caller can check it.
  herr_t close() {
    if (id_ < 0) return 0;
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    switch (H5Iget_type(id)) {
      case H5I_FILE: return H5Fclose(id);
      case H5I_DATASET: return H5Dclose(id);
      case H5I_DATATYPE: return H5Tclose(id);
      case H5I_DATASPACE: return H5Sclose(id);
      case H5I_ATTR: return H5Aclose(id);
      case H5I_GENPROP_LST: return H5Pclose(id);
      default: return H5Idec_ref(id) < 0 ? -1 : 0;
    }
  }

 private:
  void reset() { close(); }
  hid_t id_ = H5I_INVALID_HID;
};

// Turns HDF5's automatic error printing off for the duration of a write (failures become
// exceptions with the message attached) and restores the caller's handler afterwards.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// ----- column types ---------------------------------------------------------------------
// Memory types are the native ones (what the struct holds); file types are explicit
// little-endian so the file reads the same on any machine.

struct ColumnTypes {
  Hid memory;
  Hid file;
};

template <class T>
ColumnTypes column_types() {
  const auto pair = [](hid_t memory, hid_t file) {
    return ColumnTypes{Hid(H5Tcopy(memory), "cannot copy a native type"),
                       Hid(H5Tcopy(file), "cannot copy a file type")};
  };
  if constexpr (std::is_same_v<T, std::uint64_t>) {
    return pair(H5T_NATIVE_UINT64, H5T_STD_U64LE);
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    return pair(H5T_NATIVE_UINT8, H5T_STD_U8LE);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return pair(H5T_NATIVE_INT64, H5T_STD_I64LE);
  } else if constexpr (std::is_same_v<T, std::uint32_t>) {
    return pair(H5T_NATIVE_UINT32, H5T_STD_U32LE);
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return pair(H5T_NATIVE_INT32, H5T_STD_I32LE);
  } else if constexpr (std::is_same_v<T, double>) {
    return pair(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
  } else if constexpr (std::is_array_v<T> && std::is_same_v<std::remove_extent_t<T>, char>) {
    // Fixed-length, NUL-padded names (tier and link names): h5py reads them as bytes.
    const auto make = [] {
      Hid type(H5Tcopy(H5T_C_S1), "cannot create a string type");
      check(H5Tset_size(type, std::extent_v<T>), "cannot create a string type");
      check(H5Tset_strpad(type, H5T_STR_NULLPAD), "cannot create a string type");
      return type;
    };
    return ColumnTypes{make(), make()};
  } else if constexpr (std::is_same_v<T, RequestStatus>) {
    static_assert(sizeof(RequestStatus) == 1);
    // An enum keeps the names in the file, so readers need not know the numbering.
    const auto make = [](hid_t base) {
      Hid type(H5Tenum_create(base), "cannot create the status enum type");
      for (const RequestStatus s :
           {RequestStatus::completed, RequestStatus::rejected, RequestStatus::unfinished}) {
        const auto value = static_cast<std::uint8_t>(s);
        check(H5Tenum_insert(type, to_string(s), &value), "cannot build the status enum type");
      }
      return type;
    };
    return ColumnTypes{make(H5T_NATIVE_UINT8), make(H5T_STD_U8LE)};
  } else {
    static_assert(!sizeof(T), "no HDF5 column type for this C++ type");
  }
}

// HDF5 memory and file types of a schema column.
ColumnTypes types_of(const ColumnSpec& c) {
  switch (c.kind) {
    case ColumnKind::u64: return column_types<std::uint64_t>();
    case ColumnKind::i64: return column_types<std::int64_t>();
    case ColumnKind::u32: return column_types<std::uint32_t>();
    case ColumnKind::i32: return column_types<std::int32_t>();
    case ColumnKind::f64: return column_types<double>();
    case ColumnKind::u8_status: return column_types<RequestStatus>();
    case ColumnKind::u8: return column_types<std::uint8_t>();
    case ColumnKind::fixed_string: {
      // Fixed-length, NUL-padded names (tier and link names): h5py reads them as bytes.
      const auto make = [&] {
        Hid type(H5Tcopy(H5T_C_S1), "cannot create a string type");
        check(H5Tset_size(type, c.size), "cannot create a string type");
        check(H5Tset_strpad(type, H5T_STR_NULLPAD), "cannot create a string type");
        return type;
      };
      return ColumnTypes{make(), make()};
    }
  }
  throw WriteFailure("unknown column kind");
}

// The compound types of a table: the memory type mirrors the struct, padding included; the
// file type is packed, and HDF5 converts member by member, matching by name.
struct TableTypes {
  Hid memory;
  Hid file;
};

TableTypes table_types(const TableSpec& table) {
  const std::string what = "cannot describe dataset /" + table.path;
  TableTypes t{Hid(H5Tcreate(H5T_COMPOUND, table.row_size), what), {}};
  std::vector<ColumnTypes> columns;
  std::size_t file_size = 0;
  for (const ColumnSpec& c : table.columns) {
    columns.push_back(types_of(c));
    check(H5Tinsert(t.memory, c.name.c_str(), c.offset, columns.back().memory), what);
    file_size += H5Tget_size(columns.back().file);
  }
  t.file = Hid(H5Tcreate(H5T_COMPOUND, file_size), what);
  std::size_t file_offset = 0;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    check(H5Tinsert(t.file, table.columns[i].name.c_str(), file_offset, columns[i].file), what);
    file_offset += H5Tget_size(columns[i].file);
  }
  return t;
}

// ----- writing ----------------------------------------------------------------------------

Hid utf8_string_type() {
  Hid type(H5Tcopy(H5T_C_S1), "cannot create a string type");
  check(H5Tset_size(type, H5T_VARIABLE), "cannot create a string type");
  check(H5Tset_cset(type, H5T_CSET_UTF8), "cannot create a string type");
  return type;
}

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
  const std::string what = std::string("cannot write attribute ") + name;
  const Hid type = utf8_string_type();
  const Hid space(H5Screate(H5S_SCALAR), what);
  const Hid attribute(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), what);
  const char* text = value.c_str();
  check(H5Awrite(attribute, type, &text), what);
}

void write_string_array_attribute(hid_t object, const char* name,
                                  const std::vector<std::string>& values) {
  const std::string what = std::string("cannot write attribute ") + name;
  const Hid type = utf8_string_type();
  const hsize_t dims[1] = {values.size()};
  const Hid space(H5Screate_simple(1, dims, nullptr), what);
  const Hid attribute(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), what);
  std::vector<const char*> texts;
  for (const std::string& v : values) texts.push_back(v.c_str());
  check(H5Awrite(attribute, type, texts.data()), what);
}

template <class T>
void write_scalar_attribute(hid_t object, const char* name, const T& value) {
  const std::string what = std::string("cannot write attribute ") + name;
  const ColumnTypes types = column_types<T>();
  const Hid space(H5Screate(H5S_SCALAR), what);
  const Hid attribute(H5Acreate2(object, name, types.file, space, H5P_DEFAULT, H5P_DEFAULT), what);
  check(H5Awrite(attribute, types.memory, &value), what);
}

struct TableOptions {
  bool compress = true;    // chunk + shuffle + deflate (only when there are rows, unless extensible)
  bool extensible = false; // rows are appended later (always chunked)
};

void write_units(hid_t dataset, const TableSpec& table) {
  std::vector<std::string> units;
  for (const ColumnSpec& c : table.columns) units.push_back(c.unit);
  write_string_array_attribute(dataset, "units", units);
}

// Creates the compound dataset of table under parent with row_count rows (written from
// rows when non-empty), with a `units` string-array attribute aligned with the columns.
Hid create_table(hid_t parent, const std::string& name, const TableSpec& table, const void* rows,
                 std::size_t row_count, TableOptions options) {
  const std::string what = "cannot write dataset /" + table.path;
  const TableTypes types = table_types(table);
  const hsize_t dims[1] = {row_count};
  const hsize_t unlimited[1] = {H5S_UNLIMITED};
  const Hid space(H5Screate_simple(1, dims, options.extensible ? unlimited : nullptr), what);
  const Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), what);
  // Without timestamps in object headers, equal results give byte-equal datasets.
  check(H5Pset_obj_track_times(dcpl, false), what);
  if (options.extensible || (options.compress && row_count > 0)) {
    const hsize_t rows_per_chunk = std::max<hsize_t>(1, chunk_bytes / table.row_size);
    const hsize_t chunk[1] = {options.extensible ? rows_per_chunk : std::min<hsize_t>(row_count, rows_per_chunk)};
    check(H5Pset_chunk(dcpl, 1, chunk), what);
    check(H5Pset_shuffle(dcpl), what);
    check(H5Pset_deflate(dcpl, deflate_level), what);
  }
  Hid dataset(H5Dcreate2(parent, name.c_str(), types.file, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), what);
  if (row_count > 0) check(H5Dwrite(dataset, types.memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows), what);
  write_units(dataset, table);
  return dataset;
}

template <class Row>
void write_table(hid_t parent, const std::string& name, const TableSpec& table, std::span<const Row> rows,
                 TableOptions options = {}) {
  if (sizeof(Row) != table.row_size) throw WriteFailure("row size mismatch for /" + table.path);
  (void)create_table(parent, name, table, rows.data(), rows.size(), options);
}

// Appends rows to an extensible table.
void append_rows(hid_t dataset, const TableSpec& table, const void* rows, std::size_t count, hsize_t& size) {
  if (count == 0) return;
  const std::string what = "cannot append to dataset /" + table.path;
  const TableTypes types = table_types(table);
  const hsize_t new_size[1] = {size + count};
  check(H5Dset_extent(dataset, new_size), what);
  const Hid file_space(H5Dget_space(dataset), what);
  const hsize_t start[1] = {size};
  const hsize_t block[1] = {count};
  check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, block, nullptr), what);
  const Hid memory_space(H5Screate_simple(1, block, nullptr), what);
  check(H5Dwrite(dataset, types.memory, memory_space, file_space, H5P_DEFAULT, rows), what);
  size += count;
}

std::string describe_errno(int error) {
  if (error == EACCES || error == EPERM || error == EROFS) return "directory is not writable";
  if (error != 0) return std::strerror(error);
  return "";
}

// Writes everything but /requests, and closes the file.
void finish_file(Hid& file, const RunMetadata& metadata, const RunTables& tables, const Summary& summary) {
  write_table(file, "tiers", tiers_table(), tables.tiers, {.compress = false});
  write_table(file, "links", links_table(), tables.links);
  {
    const Hid group(H5Gcreate2(file, "timeseries", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create group /timeseries");
    write_table(group, "tier_occupancy", tier_samples_table(), tables.tier_samples);
    write_table(group, "energy", energy_samples_table(), tables.energy_samples);
    write_table(group, "instances", instance_samples_table(), tables.instance_samples);
    write_table(group, "links", link_samples_table(), tables.link_samples);
  }
  write_table(file, "summary", summary_table(), std::span<const Summary>(&summary, 1), {.compress = false});
  write_table(file, "slo", slo_table(), std::span<const SloRecord>(summary.slo), {.compress = false});
  write_table(file, "classes", classes_table(), std::span<const ClassRecord>(summary.classes), {.compress = false});
  write_table(file, "energy", energy_table(), tables.energy);
  write_table(file, "groups", groups_table(), std::span<const GroupRecord>(summary.groups), {.compress = false});

  write_scalar_attribute(file, "schema_version", std::int32_t{kSchemaVersion});
  write_string_attribute(file, "kvsim_version", metadata.kvsim_version);
  write_string_attribute(file, "git_revision", metadata.git_revision);
  write_string_attribute(file, "simgrid_version", metadata.simgrid_version);
  write_string_attribute(file, "command_line", metadata.command_line);
  write_string_attribute(file, "workload_report", metadata.workload_report);
  write_string_attribute(file, "config", metadata.config_toml);
  write_scalar_attribute(file, "seed", metadata.seed);
  write_scalar_attribute(file, "wall_time", metadata.wall_time);

  // Closing writes the superblock and metadata cache, so a full disk shows up here.
  check(file.close(), "cannot finish writing the file");
}

}  // namespace

namespace {

InputError output_error(const std::string& path, const std::string& message) {
  return InputError(path, 0, "output", message);
}

std::string temp_path_for(const std::string& path) { return path + ".tmp-" + std::to_string(::getpid()); }

void create_parent_directories(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) throw output_error(path, "cannot create directory " + parent.string() + ": " + ec.message());
}

}  // namespace

void check_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  create_parent_directories(path);
  check_regular_output(path, "output");
  std::error_code ec;
  // Probe with the temporary name the writer will use, so a location that would fail at the
  // end of the run fails before it.
  const std::string probe = temp_path_for(path);
  errno = 0;
  std::FILE* file = std::fopen(probe.c_str(), "wx");
  if (!file) throw output_error(path, std::string("cannot create a file there: ") + std::strerror(errno));
  std::fclose(file);
  fs::remove(probe, ec);
}

struct ResultsFile::Impl {
  std::string path;
  std::string temp_path;
  bool created = false;  // the temporary file exists and is ours to remove
  Hid file;
  Hid requests;
  hsize_t request_rows = 0;

  InputError error(const std::string& message) const { return output_error(path, message); }
  // Runs step; on failure removes the temporary file and rethrows as an InputError.
  template <class Step>
  void guard(Step step) {
    try {
      const QuietErrors quiet;
      step();
    } catch (const WriteFailure& failure) {
      abandon();
      throw error(failure.what());
    } catch (...) {
      abandon();
      throw;
    }
  }
  void abandon() {
    set_interrupt_cleanup_path("");
    requests = Hid();
    file = Hid();
    std::error_code ignored;
    if (created) std::filesystem::remove(temp_path, ignored);
    created = false;
  }
};

ResultsFile::ResultsFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->temp_path = temp_path_for(path);
  // A file HDF5 failed to flush (a full disk) cannot be closed and stays open in the
  // library; its exit handler would then loop over it and print "infinite loop closing
  // library". kvsim removes the temporary file itself, so the handler is not wanted.
  H5dont_atexit();
  create_parent_directories(path);
  if (std::error_code ec; !std::filesystem::is_directory(path, ec)) check_regular_output(path, "output");
  impl_->guard([&] {
    // The temporary file is created exclusively here first, so that it is known to be ours
    // (and removed on failure) even when HDF5 fails right after creating it (a full disk
    // fails the superblock's write).
    errno = 0;
    const int fd = ::open(impl_->temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      const std::string reason = describe_errno(errno);
      throw WriteFailure("cannot create file" + (reason.empty() ? std::string() : ": " + reason));
    }
    ::close(fd);
    impl_->created = true;
    errno = 0;
    impl_->file = Hid(H5Fcreate(impl_->temp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (impl_->file.get() < 0) {
      const std::string reason = describe_errno(errno);
      H5Eclear2(H5E_DEFAULT);
      throw WriteFailure("cannot write the file" + (reason.empty() ? std::string() : ": " + reason));
    }
    set_interrupt_cleanup_path(impl_->temp_path);
    impl_->requests = create_table(impl_->file, "requests", requests_table(), nullptr, 0, {.extensible = true});
  });
}

ResultsFile::~ResultsFile() {
  if (impl_) impl_->abandon();
}

void ResultsFile::append_requests(std::span<const RequestRecord> rows) {
  if (!impl_->created) throw impl_->error("the results file was already closed");
  impl_->guard(
      [&] { append_rows(impl_->requests, requests_table(), rows.data(), rows.size(), impl_->request_rows); });
}

void ResultsFile::commit(const RunMetadata& metadata, const RunTables& tables, const Summary& summary) {
  append_requests(tables.requests);
  impl_->guard([&] {
    impl_->requests = Hid();
    finish_file(impl_->file, metadata, tables, summary);
  });
  if (interrupt_requested()) {
    impl_->abandon();
    throw_if_interrupted("the results file " + impl_->path + " was not written");
  }
  std::error_code ec;
  std::filesystem::rename(impl_->temp_path, impl_->path, ec);
  if (ec) {
    impl_->abandon();
    throw impl_->error("cannot rename " + impl_->temp_path + " to the output path: " + ec.message());
  }
  impl_->created = false;
  set_interrupt_cleanup_path("");
}

void write_hdf5(const std::string& path, const RunMetadata& metadata, const RunTables& tables,
                const Summary& summary) {
  ResultsFile file(path);
  file.commit(metadata, tables, summary);
}

}  // namespace kvsim::results
