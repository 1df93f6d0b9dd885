// The HDF5 results file: written, then read back with the plain HDF5 C API (independently of
// the writer's helpers) to check names, types, values, attributes and that files appear only
// complete, even when writing fails.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <hdf5.h>

#include "sim/results/records.hpp"
#include "sim/util/error.hpp"

namespace fs = std::filesystem;
using kvsim::results::RequestRecord;
using kvsim::results::RequestStatus;
using kvsim::results::RunMetadata;
using kvsim::results::Summary;

namespace {

// A fresh directory per test, named by pid and a counter (deterministic, no clock).
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("kvsim_test_hdf5_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    names.push_back(fs::relative(e.path(), dir).string());
  }
  return names;
}

bool any_temp_file(const fs::path& dir) {
  for (const std::string& name : entries(dir)) {
    if (name.find(".tmp-") != std::string::npos) return true;
  }
  return false;
}

std::vector<RequestRecord> sample_records() {
  RequestRecord a;
  a.id = (std::uint64_t{1} << 63) + 5;  // beyond int64: the column must be unsigned 64-bit
  a.session = 42;
  a.parent = -1;
  a.turn = 1;
  a.instance = 3;
  a.arrival = 0.5;
  a.first_token = 0.75;
  a.finish = 2.0;
  a.ttft = 0.25;
  a.tpot = 0.125;
  a.e2e = 1.5;
  a.input_tokens = 4000000000u;  // beyond int32: the column must be unsigned 32-bit
  a.output_tokens = 11;
  a.cached_tokens = 512;
  a.preemptions = 2;
  a.status = RequestStatus::completed;

  RequestRecord b;
  b.id = 8;
  b.session = 42;
  b.parent = static_cast<std::int64_t>(a.id & 0xffff);
  b.turn = 2;
  b.instance = -1;
  b.arrival = 3.0;
  b.input_tokens = 70000;
  b.output_tokens = 5;
  b.status = RequestStatus::rejected;

  RequestRecord c;
  c.id = 9;
  c.arrival = 4.0;
  c.first_token = 4.5;
  c.ttft = 0.5;
  c.status = RequestStatus::unfinished;
  return {a, b, c};
}

RunMetadata sample_metadata() {
  RunMetadata m;
  m.kvsim_version = "0.1.0";
  m.git_revision = "abc1234";
  m.simgrid_version = "3.32";
  m.seed = 18446744073709551557ull;  // largest 64-bit prime: needs all 64 unsigned bits
  m.command_line = "kvsim run --config x.toml";
  // Non-ASCII and > 64 KiB: an attribute of that size only fits as a variable-length string.
  m.config_toml = "[engine]\nstep_overhead = \"2µs\"\n" + std::string(70000, '#') + "\n";
  m.wall_time = 1.25;
  return m;
}

// ----- reading helpers (HDF5 C API, errors turned into test failures) ---------------------

std::string read_string_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  const hid_t file_type = H5Aget_type(attribute);
  CHECK(H5Tget_class(file_type) == H5T_STRING);
  CHECK(H5Tis_variable_str(file_type) > 0);
  CHECK(H5Tget_cset(file_type) == H5T_CSET_UTF8);
  const hid_t memory_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(memory_type, H5T_VARIABLE);
  H5Tset_cset(memory_type, H5T_CSET_UTF8);
  char* text = nullptr;
  REQUIRE(H5Aread(attribute, memory_type, &text) >= 0);
  std::string value = text != nullptr ? text : "";
  H5free_memory(text);
  H5Tclose(memory_type);
  H5Tclose(file_type);
  H5Aclose(attribute);
  return value;
}

std::vector<std::string> read_string_array_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  const hid_t space = H5Aget_space(attribute);
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
  const hid_t memory_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(memory_type, H5T_VARIABLE);
  H5Tset_cset(memory_type, H5T_CSET_UTF8);
  std::vector<char*> texts(n, nullptr);
  REQUIRE(H5Aread(attribute, memory_type, texts.data()) >= 0);
  std::vector<std::string> values;
  for (char* t : texts) values.emplace_back(t != nullptr ? t : "");
  H5Dvlen_reclaim(memory_type, space, H5P_DEFAULT, texts.data());
  H5Tclose(memory_type);
  H5Sclose(space);
  H5Aclose(attribute);
  return values;
}

// Reads a scalar numeric attribute and checks its stored type.
template <class T>
T read_scalar_attribute(hid_t object, const char* name, hid_t expected_file_type,
                        hid_t memory_type) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  const hid_t file_type = H5Aget_type(attribute);
  CHECK(H5Tequal(file_type, expected_file_type) > 0);
  T value{};
  REQUIRE(H5Aread(attribute, memory_type, &value) >= 0);
  H5Tclose(file_type);
  H5Aclose(attribute);
  return value;
}

std::vector<std::string> member_names(hid_t compound) {
  std::vector<std::string> names;
  const int n = H5Tget_nmembers(compound);
  for (int i = 0; i < n; ++i) {
    char* name = H5Tget_member_name(compound, static_cast<unsigned>(i));
    names.emplace_back(name);
    H5free_memory(name);
  }
  return names;
}

hid_t member_type(hid_t compound, const char* name) {
  const int index = H5Tget_member_index(compound, name);
  REQUIRE(index >= 0);
  return H5Tget_member_type(compound, static_cast<unsigned>(index));
}

bool member_is(hid_t compound, const char* name, hid_t expected) {
  const hid_t type = member_type(compound, name);
  const bool equal = H5Tequal(type, expected) > 0;
  H5Tclose(type);
  return equal;
}

hid_t status_enum_type() {
  const hid_t type = H5Tenum_create(H5T_NATIVE_UINT8);
  for (const auto s : {RequestStatus::completed, RequestStatus::rejected,
                       RequestStatus::unfinished}) {
    const auto v = static_cast<std::uint8_t>(s);
    H5Tenum_insert(type, to_string(s), &v);
  }
  return type;
}

// The reader's own view of RequestRecord, built with offsetof; HDF5 matches members by name.
hid_t request_memory_type() {
  const hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(RequestRecord));
  H5Tinsert(t, "id", offsetof(RequestRecord, id), H5T_NATIVE_UINT64);
  H5Tinsert(t, "session", offsetof(RequestRecord, session), H5T_NATIVE_UINT64);
  H5Tinsert(t, "parent", offsetof(RequestRecord, parent), H5T_NATIVE_INT64);
  H5Tinsert(t, "turn", offsetof(RequestRecord, turn), H5T_NATIVE_UINT32);
  H5Tinsert(t, "instance", offsetof(RequestRecord, instance), H5T_NATIVE_INT32);
  H5Tinsert(t, "arrival", offsetof(RequestRecord, arrival), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "first_token", offsetof(RequestRecord, first_token), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "finish", offsetof(RequestRecord, finish), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "ttft", offsetof(RequestRecord, ttft), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "tpot", offsetof(RequestRecord, tpot), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "e2e", offsetof(RequestRecord, e2e), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "input_tokens", offsetof(RequestRecord, input_tokens), H5T_NATIVE_UINT32);
  H5Tinsert(t, "output_tokens", offsetof(RequestRecord, output_tokens), H5T_NATIVE_UINT32);
  H5Tinsert(t, "cached_tokens", offsetof(RequestRecord, cached_tokens), H5T_NATIVE_UINT32);
  H5Tinsert(t, "preemptions", offsetof(RequestRecord, preemptions), H5T_NATIVE_UINT32);
  const hid_t status = status_enum_type();
  H5Tinsert(t, "status", offsetof(RequestRecord, status), status);
  H5Tclose(status);
  return t;
}

struct SummaryExcerpt {
  std::uint64_t requests;
  std::uint64_t rejected;
  double ttft_p99;
  double tpot_mean;
  double e2e_p50;
  double prefix_hit_ratio;
  double requests_per_wall_second;
};

hid_t summary_excerpt_type() {
  const hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(SummaryExcerpt));
  H5Tinsert(t, "requests", offsetof(SummaryExcerpt, requests), H5T_NATIVE_UINT64);
  H5Tinsert(t, "rejected", offsetof(SummaryExcerpt, rejected), H5T_NATIVE_UINT64);
  H5Tinsert(t, "ttft_p99", offsetof(SummaryExcerpt, ttft_p99), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "tpot_mean", offsetof(SummaryExcerpt, tpot_mean), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "e2e_p50", offsetof(SummaryExcerpt, e2e_p50), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "prefix_hit_ratio", offsetof(SummaryExcerpt, prefix_hit_ratio),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "requests_per_wall_second", offsetof(SummaryExcerpt, requests_per_wall_second),
            H5T_NATIVE_DOUBLE);
  return t;
}

hsize_t row_count(hid_t dataset) {
  const hid_t space = H5Dget_space(dataset);
  REQUIRE(H5Sget_simple_extent_ndims(space) == 1);
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(space, dims, nullptr);
  H5Sclose(space);
  return dims[0];
}

const std::vector<std::string> request_columns = {
    "id",    "session", "parent", "turn",         "instance",      "arrival",
    "first_token", "finish", "ttft", "tpot",      "e2e",           "input_tokens",
    "output_tokens", "cached_tokens", "hbm_tokens", "dram_tokens", "ssd_tokens", "remote_tokens",
    "load_wait", "preemptions", "status", "in_window", "type", "category", "service_class",
    "prefill_instance", "decode_instance", "kv_transfer_bytes", "kv_transfer_start", "kv_transfer_end"};

}  // namespace

TEST_CASE("write_hdf5 round-trips requests, summary and run metadata") {
  const TempDir dir;
  const fs::path path = dir.path / "nested" / "deeper" / "run.h5";  // parents are created
  const std::vector<RequestRecord> records = sample_records();
  const Summary summary = kvsim::results::summarize(records, 8.0, 0.5);
  const RunMetadata metadata = sample_metadata();

  kvsim::results::write_hdf5(path.string(), metadata, records, summary);
  REQUIRE(fs::is_regular_file(path));
  CHECK_FALSE(any_temp_file(dir.path));

  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);

  SUBCASE("/requests columns, types and values") {
    const hid_t dataset = H5Dopen2(file, "requests", H5P_DEFAULT);
    REQUIRE(dataset >= 0);
    CHECK(row_count(dataset) == 3);

    const hid_t file_type = H5Dget_type(dataset);
    CHECK(H5Tget_class(file_type) == H5T_COMPOUND);
    CHECK(member_names(file_type) == request_columns);
    CHECK(member_is(file_type, "id", H5T_STD_U64LE));
    CHECK(member_is(file_type, "parent", H5T_STD_I64LE));
    CHECK(member_is(file_type, "turn", H5T_STD_U32LE));
    CHECK(member_is(file_type, "instance", H5T_STD_I32LE));
    CHECK(member_is(file_type, "arrival", H5T_IEEE_F64LE));
    CHECK(member_is(file_type, "input_tokens", H5T_STD_U32LE));
    CHECK(member_is(file_type, "in_window", H5T_STD_U8LE));
    for (const auto& [name, size] : {std::pair<const char*, std::size_t>{"type", 24}, {"category", 28}}) {
      const hid_t text = member_type(file_type, name);
      CHECK(H5Tget_class(text) == H5T_STRING);
      CHECK(H5Tget_size(text) == size);
      H5Tclose(text);
    }

    const hid_t status = member_type(file_type, "status");
    CHECK(H5Tget_class(status) == H5T_ENUM);
    CHECK(H5Tget_size(status) == 1);
    CHECK(H5Tget_nmembers(status) == 3);
    char name[32] = {};
    const std::uint8_t two = 2;
    REQUIRE(H5Tenum_nameof(status, &two, name, sizeof name) >= 0);
    CHECK(std::string(name) == "unfinished");
    H5Tclose(status);
    H5Tclose(file_type);

    std::vector<RequestRecord> back(3);
    const hid_t memory_type = request_memory_type();
    REQUIRE(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()) >= 0);
    H5Tclose(memory_type);
    CHECK(back[0].id == records[0].id);
    CHECK(back[0].session == 42);
    CHECK(back[0].parent == -1);
    CHECK(back[0].instance == 3);
    CHECK(back[0].arrival == 0.5);
    CHECK(back[0].first_token == 0.75);
    CHECK(back[0].finish == 2.0);
    CHECK(back[0].tpot == 0.125);
    CHECK(back[0].e2e == 1.5);
    CHECK(back[0].input_tokens == 4000000000u);
    CHECK(back[0].cached_tokens == 512);
    CHECK(back[0].preemptions == 2);
    CHECK(back[0].status == RequestStatus::completed);
    CHECK(back[1].parent == records[1].parent);
    CHECK(back[1].turn == 2);
    CHECK(back[1].instance == -1);
    CHECK(back[1].output_tokens == 5);
    CHECK(back[1].status == RequestStatus::rejected);
    CHECK(back[2].ttft == 0.5);
    CHECK(back[2].finish == -1);
    CHECK(back[2].status == RequestStatus::unfinished);

    const hid_t dcpl = H5Dget_create_plist(dataset);
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED);
    CHECK(H5Pget_nfilters(dcpl) == 2);  // shuffle + deflate
    H5Pclose(dcpl);

    const std::vector<std::string> units = read_string_array_attribute(dataset, "units");
    REQUIRE(units.size() == request_columns.size());
    CHECK(units[0] == "-");        // id
    CHECK(units[5] == "s");        // arrival
    CHECK(units[9] == "s");        // tpot
    CHECK(units[11] == "tokens");  // input_tokens
    H5Dclose(dataset);
  }

  SUBCASE("/summary is one row with flattened percentiles") {
    const hid_t dataset = H5Dopen2(file, "summary", H5P_DEFAULT);
    REQUIRE(dataset >= 0);
    CHECK(row_count(dataset) == 1);
    const hid_t file_type = H5Dget_type(dataset);
    const std::vector<std::string> names = member_names(file_type);
    // The first 23 columns in their original order; later ones are appended (window, SLOs,
    // overload, energy), the SLO contract's names with their types.
    REQUIRE(names.size() >= 23);
    CHECK(names.front() == "requests");
    CHECK(names[7] == "ttft_p50");
    CHECK(names[18] == "e2e_mean");
    CHECK(names[22] == "requests_per_wall_second");
    CHECK(member_is(file_type, "slo_attainment", H5T_IEEE_F64LE));
    CHECK(member_is(file_type, "slo_pass", H5T_STD_U8LE));
    CHECK(member_is(file_type, "goodput_rps", H5T_IEEE_F64LE));
    CHECK(member_is(file_type, "goodput_tokens_per_s", H5T_IEEE_F64LE));
    CHECK(member_is(file_type, "overloaded", H5T_STD_U8LE));
    CHECK(member_is(file_type, "completed", H5T_STD_U64LE));
    CHECK(member_is(file_type, "tpot_p90", H5T_IEEE_F64LE));
    H5Tclose(file_type);

    SummaryExcerpt back{};
    const hid_t memory_type = summary_excerpt_type();
    REQUIRE(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &back) >= 0);
    H5Tclose(memory_type);
    // One completed request: every ttft/tpot/e2e statistic is its own value.
    CHECK(back.requests == 3);
    CHECK(back.rejected == 1);
    CHECK(back.ttft_p99 == 0.25);
    CHECK(back.tpot_mean == 0.125);
    CHECK(back.e2e_p50 == 1.5);
    CHECK(back.prefix_hit_ratio == summary.prefix_hit_ratio);
    CHECK(back.prefix_hit_ratio == doctest::Approx(512.0 / 4000000000.0));
    CHECK(back.requests_per_wall_second == 6.0);  // 3 released / 0.5 s

    const std::vector<std::string> units = read_string_array_attribute(dataset, "units");
    REQUIRE(units.size() == names.size());
    CHECK(units[5] == "1/s");  // throughput_rps
    H5Dclose(dataset);
  }

  SUBCASE("root attributes") {
    CHECK(read_string_attribute(file, "kvsim_version") == "0.1.0");
    CHECK(read_string_attribute(file, "git_revision") == "abc1234");
    CHECK(read_string_attribute(file, "simgrid_version") == "3.32");
    CHECK(read_string_attribute(file, "command_line") == "kvsim run --config x.toml");
    CHECK(read_string_attribute(file, "config") == metadata.config_toml);
    CHECK(read_scalar_attribute<std::uint64_t>(file, "seed", H5T_STD_U64LE,
                                               H5T_NATIVE_UINT64) == 18446744073709551557ull);
    CHECK(read_scalar_attribute<double>(file, "wall_time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE) ==
          1.25);
    CHECK(read_scalar_attribute<std::int32_t>(file, "schema_version", H5T_STD_I32LE,
                                              H5T_NATIVE_INT32) == 1);
  }

  H5Fclose(file);
}

TEST_CASE("write_hdf5 writes a valid zero-row table and replaces an existing file") {
  const TempDir dir;
  const fs::path path = dir.path / "run.h5";
  const std::vector<RequestRecord> records = sample_records();
  kvsim::results::write_hdf5(path.string(), sample_metadata(), records,
                             kvsim::results::summarize(records, 1.0, 1.0));
  kvsim::results::write_hdf5(path.string(), sample_metadata(), std::span<const RequestRecord>{},
                             kvsim::results::summarize({}, 0.0, 0.0));
  CHECK(entries(dir.path) == std::vector<std::string>{"run.h5"});

  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t dataset = H5Dopen2(file, "requests", H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  CHECK(row_count(dataset) == 0);
  const hid_t file_type = H5Dget_type(dataset);
  CHECK(member_names(file_type) == request_columns);
  H5Tclose(file_type);
  H5Dclose(dataset);

  const hid_t summary = H5Dopen2(file, "summary", H5P_DEFAULT);
  REQUIRE(summary >= 0);
  SummaryExcerpt back{};
  back.requests = 99;
  const hid_t memory_type = summary_excerpt_type();
  REQUIRE(H5Dread(summary, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &back) >= 0);
  H5Tclose(memory_type);
  CHECK(back.requests == 0);
  H5Dclose(summary);
  H5Fclose(file);
}

TEST_CASE("write_hdf5 failures throw InputError and leave nothing behind") {
  const TempDir dir;
  const std::vector<RequestRecord> records = sample_records();
  const Summary summary = kvsim::results::summarize(records, 1.0, 1.0);

  H5E_auto2_t handler_before = nullptr;
  void* data_before = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &handler_before, &data_before);

  SUBCASE("a parent that is a regular file") {
    { std::ofstream(dir.path / "plain") << "not a directory"; }
    const std::string path = (dir.path / "plain" / "x.h5").string();
    try {
      kvsim::results::write_hdf5(path, sample_metadata(), records, summary);
      FAIL("no exception");
    } catch (const kvsim::InputError& e) {
      CHECK(e.file() == path);
      CHECK(e.field() == "output");
      CHECK(std::string(e.what()).find("cannot create directory") != std::string::npos);
    }
    CHECK(entries(dir.path) == std::vector<std::string>{"plain"});
  }

  SUBCASE("the path is an existing directory, so the final rename fails") {
    // Fails after the temporary file was fully written, whatever the user's privileges.
    fs::create_directories(dir.path / "run.h5" / "occupied");
    const std::string path = (dir.path / "run.h5").string();
    try {
      kvsim::results::write_hdf5(path, sample_metadata(), records, summary);
      FAIL("no exception");
    } catch (const kvsim::InputError& e) {
      CHECK(e.file() == path);
      CHECK(std::string(e.what()).find("cannot rename") != std::string::npos);
    }
    CHECK_FALSE(any_temp_file(dir.path));
    CHECK(fs::is_directory(dir.path / "run.h5" / "occupied"));
  }

  SUBCASE("a read-only directory") {
    const fs::path read_only = dir.path / "ro";
    fs::create_directories(read_only);
    fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
    // Privileged users (root in a container) write through mode bits; then there is
    // nothing to test here.
    if (::access(read_only.c_str(), W_OK) == 0) {
      MESSAGE("directory permissions are not enforced for this user; skipped");
    } else {
      const std::string path = (read_only / "run.h5").string();
      try {
        kvsim::results::write_hdf5(path, sample_metadata(), records, summary);
        FAIL("no exception");
      } catch (const kvsim::InputError& e) {
        CHECK(e.file() == path);
        CHECK(std::string(e.what()).find("directory is not writable") != std::string::npos);
      }
      CHECK(entries(read_only).empty());
    }
  }

  // The writer silences HDF5's error printing only while it works.
  H5E_auto2_t handler_after = nullptr;
  void* data_after = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &handler_after, &data_after);
  const bool same_handler = handler_after == handler_before;
  CHECK(same_handler);
  CHECK(data_after == data_before);
}
