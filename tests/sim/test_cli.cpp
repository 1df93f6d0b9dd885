// The kvsim command line, through the real binary: each kind of bad input ends with exit
// status 2 and a message naming where the problem is (file, line, dotted key) and what was
// expected, and leaves no results file behind; the informational commands and output modes
// print what they promise on the stream they promise; and a run is reproducible bit for bit
// from its seed. Every run is kept to a few hundred requests so it takes milliseconds.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <hdf5.h>
#include <toml++/toml.h>

#include "tests/sim/cli_helpers.hpp"

namespace fs = std::filesystem;
using kvsim::test::CliResult;
using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Arguments of a small, fast run of the default scenario writing no results file.
std::vector<std::string> small_run(std::vector<std::string> extra) {
  std::vector<std::string> args{"run", "--quiet", "-o", "", "--set", "workload.num_requests=200"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A run that must fail on bad input: exit status 2, one "kvsim: error:" line on stderr,
// nothing on stdout.
CliResult expect_input_error(const ScratchDir& dir, const std::vector<std::string>& args) {
  CliResult r = run_kvsim(dir, args);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("kvsim: error: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  return r;
}

// ----- reading results files with the plain HDF5 C API ---------------------------------

struct RawDataset {
  std::vector<unsigned char> bytes;  // rows in the file's own datatype
  std::size_t rows = 0;
  std::size_t row_size = 0;
  std::size_t wall_time_offset = 0, wall_rate_offset = 0;  // /summary only
};

// Reads a 1-D compound dataset as raw bytes, with the file datatype as memory type, so
// equal files give equal buffers whatever the struct layout of the reader.
RawDataset read_raw(const std::string& path, const char* name) {
  RawDataset raw;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  const hid_t type = H5Dget_type(dataset);
  const hid_t space = H5Dget_space(dataset);
  REQUIRE(type >= 0);
  REQUIRE(space >= 0);
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  REQUIRE(points >= 0);
  raw.rows = static_cast<std::size_t>(points);
  raw.row_size = H5Tget_size(type);
  raw.bytes.assign(raw.rows * raw.row_size, 0);
  if (raw.rows > 0) CHECK(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.bytes.data()) >= 0);
  if (H5Tget_class(type) == H5T_COMPOUND) {
    const int wall = H5Tget_member_index(type, "wall_time");
    const int rate = H5Tget_member_index(type, "requests_per_wall_second");
    if (wall >= 0) raw.wall_time_offset = H5Tget_member_offset(type, static_cast<unsigned>(wall));
    if (rate >= 0) raw.wall_rate_offset = H5Tget_member_offset(type, static_cast<unsigned>(rate));
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(dataset);
  H5Fclose(file);
  return raw;
}

std::uint64_t read_seed_attribute(const std::string& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t attribute = H5Aopen(file, "seed", H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  std::uint64_t seed = 0;
  CHECK(H5Aread(attribute, H5T_NATIVE_UINT64, &seed) >= 0);
  H5Aclose(attribute);
  H5Fclose(file);
  return seed;
}

bool same_bytes(const RawDataset& a, const RawDataset& b) {
  return a.bytes.size() == b.bytes.size() && std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()) == 0;
}

// The summary row with its two wall-clock fields (the only ones that may differ between
// identical runs) zeroed.
RawDataset summary_without_wall_clock(const std::string& path) {
  RawDataset s = read_raw(path, "summary");
  REQUIRE(s.rows == 1);
  REQUIRE(s.wall_time_offset > 0);
  REQUIRE(s.wall_rate_offset > 0);
  REQUIRE(s.wall_time_offset + 8 <= s.row_size);
  REQUIRE(s.wall_rate_offset + 8 <= s.row_size);
  std::fill_n(s.bytes.begin() + static_cast<std::ptrdiff_t>(s.wall_time_offset), 8, 0);
  std::fill_n(s.bytes.begin() + static_cast<std::ptrdiff_t>(s.wall_rate_offset), 8, 0);
  return s;
}

}  // namespace

// ----- informational commands -------------------------------------------------------------

TEST_CASE("cli: --version and --help exit 0") {
  ScratchDir dir;
  const CliResult version = run_kvsim(dir, {"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.starts_with("kvsim "));
  CHECK(contains(version.out, "SimGrid 3.32"));
  CHECK(version.err.empty());

  const CliResult help = run_kvsim(dir, {"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "kvsim run [CONFIG.toml]"));
  CHECK(contains(help.out, "kvsim list"));
  CHECK(contains(help.out, "kvsim describe"));

  // Without any argument the help is printed but it is a usage error.
  const CliResult bare = run_kvsim(dir, {});
  CHECK(bare.exit_code == 2);
  CHECK(contains(bare.out, "kvsim run [CONFIG.toml]"));

  const CliResult run_help = run_kvsim(dir, {"run", "--help"});
  CHECK(run_help.exit_code == 0);
  CHECK(contains(run_help.out, "--set KEY=VALUE"));
  CHECK(contains(run_help.out, "--seed"));
  CHECK(contains(run_help.out, "--print-config"));
  CHECK(dir.entries().empty());  // help never simulates or writes
}

TEST_CASE("cli: list routers and describe scenario") {
  ScratchDir dir;
  const CliResult routers = run_kvsim(dir, {"list", "routers"});
  CHECK(routers.exit_code == 0);
  CHECK(routers.out.starts_with("routers:\n"));
  CHECK(contains(routers.out, "\n  round_robin  "));
  CHECK(contains(routers.out, "\n  least_loaded  "));
  CHECK_FALSE(contains(routers.out, "generators:"));

  const CliResult all = run_kvsim(dir, {"list"});
  CHECK(all.exit_code == 0);
  for (const char* family : {"routers:", "generators:", "gpus:", "nodes:", "models:"}) {
    CAPTURE(family);
    CHECK(contains(all.out, family));
  }
  CHECK(contains(all.out, "  llama-3.1-8b  "));
  CHECK(contains(all.out, "  h100-sxm  "));

  const CliResult scenario = run_kvsim(dir, {"describe", "scenario"});
  CHECK(scenario.exit_code == 0);
  CHECK(contains(scenario.out, "  instances.block_size  (integer, default 16)\n      tokens per KV block\n"));
  CHECK(contains(scenario.out, "  workload.rate  "));
  CHECK(contains(scenario.out, "  routing.policy  "));

  const CliResult section = run_kvsim(dir, {"describe", "instances"});
  CHECK(section.exit_code == 0);
  CHECK(contains(section.out, "instances.block_size"));
  CHECK_FALSE(contains(section.out, "workload.rate"));

  const CliResult unknown_family = expect_input_error(dir, {"list", "routrs"});
  CHECK(contains(unknown_family.err, "unknown family \"routrs\""));
  const CliResult unknown_name = expect_input_error(dir, {"describe", "nonsense"});
  CHECK(contains(unknown_name.err, "unknown name \"nonsense\""));
}

TEST_CASE("cli: --print-config prints the resolved TOML with overrides applied") {
  ScratchDir dir;
  const CliResult r = run_kvsim(dir, {"run", "--print-config", "--set", "workload.rate=3", "--seed", "9"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, "rate = 3.0\n"));
  // It is valid TOML carrying the SI values of the run.
  toml::table resolved;
  REQUIRE_NOTHROW(resolved = toml::parse(r.out));
  CHECK(resolved["workload"]["rate"].value_exact<double>() == 3.0);
  CHECK(resolved["run"]["seed"].value_exact<std::int64_t>() == 9);
  CHECK(resolved["instances"]["block_size"].value_exact<std::int64_t>() == 16);
  CHECK(resolved["platform"]["gpu_spec"]["hbm_bandwidth"].value_exact<double>() == 3.35e12);
  CHECK(dir.entries().empty());  // printed, not simulated
}

TEST_CASE("cli: the resolved config of a cluster run loads again and resolves to itself") {
  // The keys a cluster card replaces (platform.nodes, gpu, node_spec, gpu_spec) were printed
  // with their defaults and then refused next to platform.cluster.
  ScratchDir dir;
  const CliResult first =
      run_kvsim(dir, {"run", "--print-config", "--set", "platform.cluster=h100-4node", "--set", "instances.count=4"});
  REQUIRE(first.exit_code == 0);
  {
    std::ofstream(dir.path() / "resolved.toml") << first.out;
  }
  const CliResult again = run_kvsim(dir, {"run", "resolved.toml", "--print-config"});
  CHECK(again.err == "");
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == first.out);
}

TEST_CASE("cli: --json --quiet prints exactly one JSON line on stdout") {
  ScratchDir dir;
  const CliResult r = run_kvsim(dir, {"run", "--json", "--quiet", "-o", "", "--set", "workload.num_requests=200"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  CHECK(r.out.starts_with("{\"requests\":200,\"completed\":"));
  CHECK(r.out.ends_with("}\n"));
  CHECK(contains(r.out, "\"ttft\":{\"p50\":"));
  CHECK(contains(r.out, "\"completed\":200,"));
  CHECK(dir.entries().empty());  // -o "" writes no file
}

TEST_CASE("cli: with --json the summary table goes to stderr, without it to stdout") {
  ScratchDir dir;
  const CliResult json = run_kvsim(dir, {"run", "--json", "-o", "", "--set", "workload.num_requests=200"});
  REQUIRE(json.exit_code == 0);
  CHECK(std::count(json.out.begin(), json.out.end(), '\n') == 1);
  CHECK(json.out.starts_with("{\"requests\":200,"));
  CHECK_FALSE(contains(json.out, "prefix hit ratio"));
  CHECK(contains(json.err, "released 200"));
  CHECK(contains(json.err, "prefix hit ratio"));

  const CliResult table = run_kvsim(dir, {"run", "-o", "", "--set", "workload.num_requests=200"});
  REQUIRE(table.exit_code == 0);
  CHECK(contains(table.out, "released 200"));
  CHECK(contains(table.out, "prefix hit ratio"));
  CHECK_FALSE(contains(table.out, "{\"requests\""));
  CHECK(table.err.empty());
}

TEST_CASE("cli: a run writes its results file complete and only that file") {
  ScratchDir dir;
  const std::string out = dir.file("out/run.h5");
  const CliResult r = run_kvsim(dir, small_run({"-o", out, "--seed", "4"}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(fs::is_regular_file(out));
  CHECK(dir.entries() == std::vector<std::string>{"out", "out/run.h5"});
  CHECK(read_raw(out, "requests").rows == 200);
  CHECK(read_seed_attribute(out) == 4);

  // Without -o the config's default path applies, relative to the working directory,
  // with {name}, {seed} and {hash} substituted (test_output_names.cpp checks the hash).
  ScratchDir cwd;
  const CliResult d = run_kvsim(cwd, {"run", "--quiet", "--set", "workload.num_requests=200", "--seed", "5"});
  REQUIRE(d.exit_code == 0);
  const auto entries = cwd.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0] == "results");
  CHECK(entries[1].starts_with("results/default-seed5-"));
  CHECK(entries[1].ends_with(".h5"));
}

// ----- bad input -----------------------------------------------------------------------------

TEST_CASE("cli: an unknown key in a config file names the file line key and suggestion") {
  ScratchDir dir;
  const std::string config = dir.write("bad_key.toml",
                                       "[run]\nname = \"t\"\n\n[instances]\ncount = 2\nblok_size = 16\n");
  const CliResult r = expect_input_error(dir, {"run", config, "--quiet"});
  CHECK(contains(r.err, config + ":6: instances.blok_size: unknown key; did you mean \"instances.block_size\"?"));
  CHECK(dir.entries() == std::vector<std::string>{"bad_key.toml"});  // no results written

  const CliResult set = expect_input_error(dir, small_run({"--set", "workload.rat=3"}));
  CHECK(contains(set.err, "--set: workload.rat: unknown key; did you mean \"workload.rate\"?"));
}

TEST_CASE("cli: a value of the wrong type names the key and what was expected") {
  ScratchDir dir;
  const std::string config = dir.write("bad_type.toml", "[run]\nname = \"t\"\n\n[instances]\ncount = \"two\"\n");
  const CliResult file = expect_input_error(dir, {"run", config, "--quiet"});
  CHECK(contains(file.err, config + ":5: instances.count: expected an integer"));
  CHECK(contains(file.err, "\"two\""));

  const CliResult set = expect_input_error(dir, small_run({"--set", "instances.tp=true"}));
  CHECK(contains(set.err, "kvsim: error: --set: instances.tp: expected an integer, got a boolean"));

  const CliResult unit = expect_input_error(dir, small_run({"--set", "workload.think_time=80GiB"}));
  CHECK(contains(unit.err, "workload.think_time: "));
  CHECK(contains(unit.err, "a duration"));
}

TEST_CASE("cli: impossible values are rejected with their bounds") {
  ScratchDir dir;
  const CliResult block = expect_input_error(dir, small_run({"--set", "instances.block_size=0"}));
  CHECK(contains(block.err, "--set: instances.block_size: expected an integer between 1 and 1048576, got 0"));
  const CliResult hbm = expect_input_error(dir, small_run({"--set", "instances.hbm_utilization=1.5"}));
  CHECK(contains(hbm.err, "--set: instances.hbm_utilization: expected a number between 0 and 1, got 1.5"));
  const CliResult rate = expect_input_error(dir, small_run({"--set", "workload.rate=-1"}));
  CHECK(contains(rate.err, "--set: workload.rate: "));
  CHECK(contains(rate.err, "got -1"));
  const CliResult count = expect_input_error(dir, small_run({"--set", "instances.count=9"}));
  CHECK(contains(count.err, "instances.count: 9 instances at tp=1 need 9 GPUs; the platform has 8"));
}

TEST_CASE("cli: a model that does not fit names instances.tp") {
  ScratchDir dir;
  const CliResult r = expect_input_error(dir, small_run({"--set", "model.card=llama-3.1-70b"}));
  CHECK(contains(r.err, "instances.tp: model llama-3.1-70b does not fit"));
  CHECK(contains(r.err, "at tp=1"));
  CHECK(contains(r.err, "raise instances.tp"));
  // At tp=4 the same model fits, so the error was about memory, not the card.
  const CliResult fits = run_kvsim(
      dir, small_run({"--set", "model.card=llama-3.1-70b", "--set", "instances.tp=4", "--set", "instances.count=2",
                      "--set", "workload.num_requests=20"}));
  CHECK(fits.exit_code == 0);
  CHECK(fits.err.empty());
}

TEST_CASE("cli: unknown card and router names list or suggest the valid ones") {
  ScratchDir dir;
  const CliResult card = expect_input_error(dir, small_run({"--set", "model.card=llama-3.1-8"}));
  CHECK(contains(card.err, "--set: model.card: unknown llm card \"llama-3.1-8\""));
  CHECK(contains(card.err, "llama-3.1-70b, llama-3.1-8b"));
  CHECK(contains(card.err, "did you mean \"llama-3.1-8b\"?"));

  const CliResult gpu = expect_input_error(dir, small_run({"--set", "platform.gpu=h10-sxm"}));
  CHECK(contains(gpu.err, "platform.gpu: unknown gpu card \"h10-sxm\""));
  CHECK(contains(gpu.err, "did you mean \"h100-sxm\"?"));

  const CliResult router = expect_input_error(dir, small_run({"--set", "routing.policy=randomly"}));
  CHECK(contains(router.err, "--set: routing.policy: unknown value \"randomly\"; valid values are: "));
  CHECK(contains(router.err, "round_robin"));
  CHECK(contains(router.err, "least_loaded"));

  // The same mistake in a config file is located at its line.
  const std::string config = dir.write("router.toml", "[run]\nname = \"t\"\n\n[routing]\npolicy = \"least_lodaed\"\n");
  const CliResult in_file = expect_input_error(dir, {"run", config, "--quiet"});
  CHECK(contains(in_file.err, config + ":5: routing.policy: unknown value \"least_lodaed\""));
  CHECK(contains(in_file.err, "did you mean \"least_loaded\"?"));
}

TEST_CASE("cli: TOML syntax errors and missing config files") {
  ScratchDir dir;
  const std::string config = dir.write("syntax.toml", "[run]\nname = \"t\"\n[instances\ncount = 2\n");
  const CliResult syntax = expect_input_error(dir, {"run", config});
  CHECK(contains(syntax.err, "kvsim: error: " + config + ":3: TOML syntax error"));

  const std::string missing = dir.file("does_not_exist.toml");
  const CliResult none = expect_input_error(dir, {"run", missing});
  CHECK(contains(none.err, missing + ": config: cannot open file"));

  // A card given by path that does not exist is named with the key that refers to it.
  const CliResult card = expect_input_error(dir, small_run({"--set", "model.card=cards/nope.toml"}));
  CHECK(contains(card.err, "nope.toml: model.card: cannot open file"));
  CHECK(dir.entries() == std::vector<std::string>{"syntax.toml"});
}

TEST_CASE("cli: an unwritable results path fails and leaves no file") {
  ScratchDir dir;
  SUBCASE("under a directory that cannot be created") {
    const CliResult r = expect_input_error(dir, small_run({"-o", "/proc/forbidden/x.h5"}));
    CHECK(contains(r.err, "/proc/forbidden/x.h5: output: "));
    CHECK_FALSE(fs::exists("/proc/forbidden"));
  }
  SUBCASE("in a directory where no file can be created") {
    const CliResult r = expect_input_error(dir, small_run({"-o", "/proc/x.h5"}));
    CHECK(contains(r.err, "/proc/x.h5: output: cannot create a file there"));
    CHECK_FALSE(fs::exists("/proc/x.h5"));
  }
  SUBCASE("under a regular file") {
    dir.write("plain", "not a directory\n");
    const std::string out = dir.file("plain/x.h5");
    const CliResult r = expect_input_error(dir, small_run({"-o", out}));
    CHECK(contains(r.err, out + ": output: "));
    CHECK(dir.entries() == std::vector<std::string>{"plain"});
  }
  SUBCASE("onto an existing directory") {
    fs::create_directories(dir.path() / "taken");
    const std::string out = dir.file("taken");
    const CliResult r = expect_input_error(dir, small_run({"-o", out}));
    CHECK(contains(r.err, out + ": output: "));
    CHECK(dir.entries() == std::vector<std::string>{"taken"});  // no temporary file left
  }
}

TEST_CASE("cli: bad command-line arguments") {
  ScratchDir dir;
  const CliResult option = expect_input_error(dir, {"run", "--bogus"});
  CHECK(contains(option.err, "command line: unknown option --bogus"));
  const CliResult command = expect_input_error(dir, {"simulate"});
  CHECK(contains(command.err, "unknown command \"simulate\""));
  const CliResult seed = expect_input_error(dir, {"run", "--seed", "abc"});
  CHECK(contains(seed.err, "--seed: expected a non-negative integer, got \"abc\""));
  const CliResult negative = expect_input_error(dir, {"run", "--seed=-3"});
  CHECK(contains(negative.err, "--seed: expected a non-negative integer, got \"-3\""));
  const CliResult trailing = expect_input_error(dir, {"run", "--seed", "12x"});
  CHECK(contains(trailing.err, "got \"12x\""));
  const CliResult no_value = expect_input_error(dir, {"run", "--seed"});
  CHECK(contains(no_value.err, "--seed needs a value"));
  const CliResult set = expect_input_error(dir, {"run", "--set", "novalue"});
  CHECK(contains(set.err, "--set: novalue: expected KEY=VALUE"));
  const CliResult two = expect_input_error(dir, {"run", "a.toml", "b.toml"});
  CHECK(contains(two.err, "more than one config file"));
  CHECK(dir.entries().empty());
}

// ----- determinism ---------------------------------------------------------------------------

TEST_CASE("cli: same seed gives bitwise identical results and another seed different ones") {
  ScratchDir dir;
  const std::string a = dir.file("a.h5"), b = dir.file("b.h5"), c = dir.file("c.h5");
  const std::vector<std::string> base{"run", "--quiet", "--set", "workload.num_requests=300"};
  auto with = [&](const std::string& out, const char* seed) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"-o", out, "--seed", seed});
    return args;
  };
  REQUIRE(run_kvsim(dir, with(a, "7")).exit_code == 0);
  REQUIRE(run_kvsim(dir, with(b, "7")).exit_code == 0);
  REQUIRE(run_kvsim(dir, with(c, "8")).exit_code == 0);

  const RawDataset ra = read_raw(a, "requests"), rb = read_raw(b, "requests"), rc = read_raw(c, "requests");
  CHECK(ra.rows == 300);
  CHECK(ra.row_size > 0);
  CHECK(rb.rows == 300);
  CHECK(same_bytes(ra, rb));
  CHECK(rc.rows == 300);
  CHECK_FALSE(same_bytes(ra, rc));

  const RawDataset sa = summary_without_wall_clock(a), sb = summary_without_wall_clock(b),
                   sc = summary_without_wall_clock(c);
  CHECK(same_bytes(sa, sb));
  CHECK_FALSE(same_bytes(sa, sc));
  CHECK(read_seed_attribute(a) == 7);
  CHECK(read_seed_attribute(c) == 8);
}
