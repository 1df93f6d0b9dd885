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
#include "sim/util/error.hpp"
#include "sim/util/output_file.hpp"

namespace kvsim::results {

namespace {

constexpr int schema_version = 1;
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
  return detail;
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

struct Column {
  std::string name;
  std::string unit;  // "-" for dimensionless counts and identifiers
  std::size_t offset = 0;
  ColumnTypes types;
};

// Offset of a (possibly nested) member, measured on a real object rather than with offsetof,
// which would need the member name as a token.
template <class Row, class T>
std::size_t offset_in(const Row& probe, const T& member) {
  return static_cast<std::size_t>(reinterpret_cast<const char*>(&member) -
                                  reinterpret_cast<const char*>(&probe));
}

template <class Row, class T>
Column column(std::string name, T Row::*member, std::string unit) {
  const Row probe{};
  return {std::move(name), std::move(unit), offset_in(probe, probe.*member), column_types<T>()};
}

template <class Row, class Inner, class T>
Column column(std::string name, Inner Row::*outer, T Inner::*member, std::string unit) {
  const Row probe{};
  return {std::move(name), std::move(unit), offset_in(probe, (probe.*outer).*member),
          column_types<T>()};
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
  bool compress = true;  // chunk + shuffle + deflate (only when there are rows)
};

// Writes rows (row_count structs of row_size bytes at rows) as the compound dataset `name`,
// with a `units` string-array attribute aligned with the columns.
void write_table(hid_t parent, const std::string& name, const std::vector<Column>& columns,
                 const void* rows, std::size_t row_size, std::size_t row_count,
                 TableOptions options) {
  const std::string what = "cannot write dataset /" + name;

  // The memory type mirrors the struct, padding included; the file type is packed, and
  // HDF5 converts member by member, matching by name.
  const Hid memory_type(H5Tcreate(H5T_COMPOUND, row_size), what);
  std::size_t file_size = 0;
  for (const Column& c : columns) {
    check(H5Tinsert(memory_type, c.name.c_str(), c.offset, c.types.memory), what);
    file_size += H5Tget_size(c.types.file);
  }
  const Hid file_type(H5Tcreate(H5T_COMPOUND, file_size), what);
  std::size_t file_offset = 0;
  for (const Column& c : columns) {
    check(H5Tinsert(file_type, c.name.c_str(), file_offset, c.types.file), what);
    file_offset += H5Tget_size(c.types.file);
  }

  const hsize_t dims[1] = {row_count};
  const Hid space(H5Screate_simple(1, dims, nullptr), what);
  const Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), what);
  // Without timestamps in object headers, equal results give byte-equal datasets.
  check(H5Pset_obj_track_times(dcpl, false), what);
  if (options.compress && row_count > 0) {
    const hsize_t chunk[1] = {std::max<hsize_t>(1, std::min<hsize_t>(row_count, chunk_bytes / row_size))};
    check(H5Pset_chunk(dcpl, 1, chunk), what);
    check(H5Pset_shuffle(dcpl), what);
    check(H5Pset_deflate(dcpl, deflate_level), what);
  }
  const Hid dataset(
      H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), what);
  if (row_count > 0) {
    check(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows), what);
  }

  std::vector<std::string> units;
  for (const Column& c : columns) units.push_back(c.unit);
  write_string_array_attribute(dataset, "units", units);
}

template <class Row>
void write_table(hid_t parent, const std::string& name, const std::vector<Column>& columns,
                 std::span<const Row> rows, TableOptions options = {}) {
  write_table(parent, name, columns, rows.data(), sizeof(Row), rows.size(), options);
}

// ----- the tables -------------------------------------------------------------------------

std::vector<Column> request_columns() {
  using R = RequestRecord;
  std::vector<Column> c;
  c.push_back(column("id", &R::id, "-"));
  c.push_back(column("session", &R::session, "-"));
  c.push_back(column("parent", &R::parent, "-"));
  c.push_back(column("turn", &R::turn, "-"));
  c.push_back(column("instance", &R::instance, "-"));
  c.push_back(column("arrival", &R::arrival, "s"));
  c.push_back(column("first_token", &R::first_token, "s"));
  c.push_back(column("finish", &R::finish, "s"));
  c.push_back(column("ttft", &R::ttft, "s"));
  c.push_back(column("tpot", &R::tpot, "s"));
  c.push_back(column("e2e", &R::e2e, "s"));
  c.push_back(column("input_tokens", &R::input_tokens, "tokens"));
  c.push_back(column("output_tokens", &R::output_tokens, "tokens"));
  c.push_back(column("cached_tokens", &R::cached_tokens, "tokens"));
  c.push_back(column("hbm_tokens", &R::hbm_tokens, "tokens"));
  c.push_back(column("dram_tokens", &R::dram_tokens, "tokens"));
  c.push_back(column("ssd_tokens", &R::ssd_tokens, "tokens"));
  c.push_back(column("remote_tokens", &R::remote_tokens, "tokens"));
  c.push_back(column("load_wait", &R::load_wait, "s"));
  c.push_back(column("preemptions", &R::preemptions, "-"));
  c.push_back(column("status", &R::status, "-"));
  return c;
}

std::vector<Column> tier_columns() {
  using T = TierRecord;
  std::vector<Column> c;
  c.push_back(column("tier", &T::tier, "-"));
  c.push_back(column("location", &T::location, "-"));
  c.push_back(column("capacity_blocks", &T::capacity_blocks, "blocks"));
  c.push_back(column("lookup_blocks", &T::lookup_blocks, "blocks"));
  c.push_back(column("hit_blocks", &T::hit_blocks, "blocks"));
  c.push_back(column("loaded_blocks", &T::loaded_blocks, "blocks"));
  c.push_back(column("loaded_bytes", &T::loaded_bytes, "B"));
  c.push_back(column("written_blocks", &T::written_blocks, "blocks"));
  c.push_back(column("written_bytes", &T::written_bytes, "B"));
  c.push_back(column("evicted_blocks", &T::evicted_blocks, "blocks"));
  c.push_back(column("occupancy_blocks", &T::occupancy_blocks, "blocks"));
  return c;
}

std::vector<Column> link_columns() {
  using L = LinkRecord;
  std::vector<Column> c;  // (Columns own HDF5 handles: moved in, never copied from a list)
  c.push_back(column("name", &L::name, "-"));
  c.push_back(column("bytes", &L::bytes, "B"));
  c.push_back(column("busy", &L::busy, "s"));
  return c;
}

std::vector<Column> tier_sample_columns() {
  using T = TierSample;
  std::vector<Column> c;
  c.push_back(column("time", &T::time, "s"));
  c.push_back(column("tier", &T::tier, "-"));
  c.push_back(column("occupancy_blocks", &T::occupancy_blocks, "blocks"));
  return c;
}

std::vector<Column> summary_columns() {
  using S = Summary;
  using P = Percentiles;
  std::vector<Column> c;
  c.push_back(column("requests", &S::requests, "-"));
  c.push_back(column("completed", &S::completed, "-"));
  c.push_back(column("rejected", &S::rejected, "-"));
  c.push_back(column("unfinished", &S::unfinished, "-"));
  c.push_back(column("sim_duration", &S::sim_duration, "s"));
  c.push_back(column("throughput_rps", &S::throughput_rps, "1/s"));
  c.push_back(column("output_tokens_per_s", &S::output_tokens_per_s, "tokens/s"));
  const std::pair<const char*, Percentiles S::*> latencies[] = {
      {"ttft", &S::ttft}, {"tpot", &S::tpot}, {"e2e", &S::e2e}};
  for (const auto& [prefix, member] : latencies) {
    const std::string p = prefix;
    c.push_back(column(p + "_p50", member, &P::p50, "s"));
    c.push_back(column(p + "_p90", member, &P::p90, "s"));
    c.push_back(column(p + "_p99", member, &P::p99, "s"));
    c.push_back(column(p + "_mean", member, &P::mean, "s"));
  }
  c.push_back(column("prefix_hit_ratio", &S::prefix_hit_ratio, "-"));
  c.push_back(column("preemptions", &S::preemptions, "-"));
  c.push_back(column("wall_time", &S::wall_time, "s"));
  c.push_back(column("requests_per_wall_second", &S::requests_per_wall_second, "1/s"));
  return c;
}

std::string describe_errno(int error) {
  if (error == EACCES || error == EPERM || error == EROFS) return "directory is not writable";
  if (error != 0) return std::strerror(error);
  return "";
}

// Writes all of data to fd; false with errno set on failure (a full disk: ENOSPC, EFBIG).
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Sets created once the temporary file exists, so the caller knows whether to remove it.
//
// HDF5 builds the whole file in memory (the core driver without a backing store) and only
// the finished image is written to disk, here, with plain write(2). HDF5 itself never
// touches the disk: when a disk is full, a file HDF5 was writing cannot be closed (its
// flush keeps failing), stays open in the library, and makes it loop at exit ("infinite
// loop closing library") after leaving an empty file behind. The price is holding the
// compressed file in memory twice, less than the tables it is made from.
void write_file(const std::string& temp_path, const RunMetadata& metadata, const RunTables& tables,
                const Summary& summary, bool& created) {
  std::vector<char> image;
  {
    const Hid access(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list");
    check(H5Pset_fapl_core(access, std::size_t{1} << 20, false), "cannot select the in-memory driver");
    Hid file(H5Fcreate(temp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), "cannot create the file in memory");

    write_table(file, "requests", request_columns(), tables.requests);
    write_table(file, "tiers", tier_columns(), tables.tiers, {.compress = false});
    write_table(file, "links", link_columns(), tables.links);
    {
      const Hid group(H5Gcreate2(file, "timeseries", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create group /timeseries");
      write_table(group, "tier_occupancy", tier_sample_columns(), tables.tier_samples);
    }
    write_table(file, "summary", summary_columns(), std::span<const Summary>(&summary, 1),
                {.compress = false});

    write_scalar_attribute(file, "schema_version", std::int32_t{schema_version});
    write_string_attribute(file, "kvsim_version", metadata.kvsim_version);
    write_string_attribute(file, "git_revision", metadata.git_revision);
    write_string_attribute(file, "simgrid_version", metadata.simgrid_version);
    write_string_attribute(file, "command_line", metadata.command_line);
    write_string_attribute(file, "workload_report", metadata.workload_report);
    write_string_attribute(file, "config", metadata.config_toml);
    write_scalar_attribute(file, "seed", metadata.seed);
    write_scalar_attribute(file, "wall_time", metadata.wall_time);

    check(H5Fflush(file, H5F_SCOPE_GLOBAL), "cannot finish the file in memory");
    const ssize_t size = H5Fget_file_image(file, nullptr, 0);
    if (size < 0) fail("cannot get the file image");
    image.resize(static_cast<std::size_t>(size));
    if (H5Fget_file_image(file, image.data(), image.size()) != size) fail("cannot get the file image");
    check(file.close(), "cannot close the file in memory");
  }

  // Created exclusively, so a name that something else holds is never written or removed.
  errno = 0;
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const std::string reason = describe_errno(errno);
    fail("cannot create file" + (reason.empty() ? std::string() : ": " + reason));
  }
  created = true;
  const bool written = write_all(fd, image.data(), image.size());
  const int write_errno = errno;
  if (::close(fd) != 0 && written) fail(std::string("cannot write the file: ") + std::strerror(errno));
  if (!written) fail(std::string("cannot write the file: ") + std::strerror(write_errno));
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

void write_hdf5(const std::string& path, const RunMetadata& metadata, const RunTables& tables,
                const Summary& summary) {
  namespace fs = std::filesystem;
  const auto error = [&](const std::string& message) { return output_error(path, message); };
  create_parent_directories(path);
  // A device or FIFO would be replaced by the rename; a directory makes the rename fail.
  if (std::error_code ec; !fs::is_directory(path, ec)) check_regular_output(path, "output");

  const std::string temp_path = temp_path_for(path);
  // If creating the temporary file failed, something else may own that name (e.g. a
  // directory), so only a file we created is removed.
  bool temp_created = false;
  try {
    const QuietErrors quiet;
    write_file(temp_path, metadata, tables, summary, temp_created);
  } catch (const WriteFailure& failure) {
    std::error_code ignored;
    if (temp_created) fs::remove(temp_path, ignored);
    throw error(failure.what());
  } catch (...) {
    std::error_code ignored;
    if (temp_created) fs::remove(temp_path, ignored);
    throw;
  }

  std::error_code ec;
  fs::rename(temp_path, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp_path, ignored);
    throw error("cannot rename " + temp_path + " to the output path: " + ec.message());
  }
}

}  // namespace kvsim::results
