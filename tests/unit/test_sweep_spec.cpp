// Sweep files: expansion order and counts computed by hand, file names stable and
// sensitive to a point's definition, and errors naming file, line and field.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "sim/experiments/index_table.hpp"
#include "sim/experiments/sweep.hpp"
#include "sim/experiments/sweep_spec.hpp"
#include "sim/util/error.hpp"

using namespace kvsim::experiments;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_sweep_text(text, "s.toml", "");
  } catch (const kvsim::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("sweep: grid x zip x seeds expands in file order, first grid axis outermost") {
  const SweepSpec spec = parse_sweep_text(R"(
[sweep]
seeds = [7, 9]
set = ["workload.rate=20"]
[grid]
workload.num_requests = [100, 200]
instances.count = [2, 4, 8]
[zip]
kvcache.dram.capacity = ["64GiB", "1TiB"]
kvcache.dram.eviction = ["lru", "wa"]
)", "s.toml", "");
  REQUIRE(spec.axes.size() == 4);
  CHECK(spec.axes[0].key == "workload.num_requests");  // written first, though sorted after "instances"
  CHECK(spec.axes[1].key == "instances.count");
  CHECK(spec.axes[2].zipped);
  const auto points = expand_points(spec);
  // 2 x 3 grid cells x 2 zipped pairs x 2 seeds.
  REQUIRE(points.size() == 24);
  // Point 0: first value of every axis, first seed; seeds vary fastest, then the zip, then
  // instances.count, then workload.num_requests.
  CHECK(point_overrides(spec, points[0]) ==
        std::vector<std::string>{"workload.rate=20", "workload.num_requests=100", "instances.count=2",
                                 "kvcache.dram.capacity=\"64GiB\"", "kvcache.dram.eviction=\"lru\""});
  CHECK(points[0].seed == 7);
  CHECK(points[1].seed == 9);
  CHECK(points[2].axis_values[2] == "\"1TiB\"");
  CHECK(points[2].axis_values[3] == "\"wa\"");
  CHECK(points[4].axis_values[1] == "4");
  // Point 13 = 1·12 + 0·4 + 0·2 + 1: num_requests=200, count=2, 64GiB/lru, seed 9.
  CHECK(points[13].axis_values == std::vector<std::string>{"200", "2", "\"64GiB\"", "\"lru\""});
  CHECK(points[13].seed == 9);
  CHECK(points[13].file_name.starts_with("p0013-"));
  CHECK(plain_value(points[13].axis_values[3]) == "lru");
  for (std::size_t i = 0; i < points.size(); ++i) CHECK(points[i].id == i);
}

TEST_CASE("sweep: repetitions, no axes, and file names that follow the point's definition") {
  const SweepSpec a = parse_sweep_text("[sweep]\nrepetitions = 3\nfirst_seed = 5\n", "s.toml", "");
  CHECK(a.seeds == std::vector<std::uint64_t>{5, 6, 7});
  const auto points = expand_points(a);
  REQUIRE(points.size() == 3);
  // Same definition, same name; one override more, another name (stale files are not reused).
  CHECK(expand_points(a)[1].file_name == points[1].file_name);
  const SweepSpec b = parse_sweep_text("[sweep]\nrepetitions = 3\nfirst_seed = 5\nset=[\"workload.rate=3\"]\n", "s.toml", "");
  CHECK(expand_points(b)[1].file_name != points[1].file_name);
  CHECK(expand_points(parse_sweep_text("", "s.toml", "")).size() == 1);  // default: one point, seed 1
  // FNV-1a 64 reference values (the published test vectors).
  CHECK(fnv1a("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cull);
}

TEST_CASE("sweep: bad sweep files name file, line and field") {
  CHECK(error_of("[sweep]\nrepetitons = 2\n").find("s.toml:2: sweep.repetitons: unknown key (did you mean sweep.repetitions?)") !=
        std::string::npos);
  CHECK(error_of("[grid]\n\ninstances.count = 4\n").find("s.toml:3: grid.instances.count: expected a non-empty list") !=
        std::string::npos);
  CHECK(error_of("[zip]\na = [1, 2]\nb = [1, 2, 3]\n").find("s.toml:3: zip.b: zipped lists must have equal lengths") !=
        std::string::npos);
  CHECK(error_of("[grid]\na = [1]\n[zip]\na = [2]\n").find("zip.a: this key is already an axis") != std::string::npos);
  CHECK(error_of("[sweep]\nseeds = [1]\nrepetitions = 2\n").find("s.toml:2: sweep.seeds: give either") != std::string::npos);
  CHECK(error_of("[sweeps]\n").find("s.toml:1: sweeps: unknown section") != std::string::npos);
  CHECK(error_of("[grid]\nrun.seed = [1, 2]\n").find("vary seeds with sweep.seeds") != std::string::npos);
  CHECK(error_of("[sweep]\nbase = \"/nonexistent/x.toml\"\n").find("s.toml:2: sweep.base: no such scenario file") !=
        std::string::npos);
}

TEST_CASE("sweep: slices partition the points and bad slices are refused") {
  const Slice s = parse_slice("1/3");
  CHECK((s.contains(1) && s.contains(4) && !s.contains(0) && !s.contains(2)));
  CHECK_THROWS_AS(parse_slice("3/3"), kvsim::InputError);
  CHECK_THROWS_AS(parse_slice("1"), kvsim::InputError);
  CHECK_THROWS_AS(parse_slice("a/2"), kvsim::InputError);
  CHECK_THROWS_AS(parse_slice("0/0"), kvsim::InputError);
}

TEST_CASE("sweep index: CSV cells quoted as RFC 4180 says, numbers round-trip") {
  CHECK(csv_cell("plain") == "plain");
  CHECK(csv_cell("a,b") == "\"a,b\"");
  CHECK(csv_cell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(number_text(0.1) == "0.1");
  CHECK(std::stod(number_text(1.0 / 3.0)) == 1.0 / 3.0);
  CHECK(number_text(std::nan("")) == "nan");
}

TEST_CASE("slurm script: one array task per slice, each running its slice") {
  SweepSpec spec = parse_sweep_text("[sweep]\nname = \"x\"\noutput = \"/tmp/out\"\n", "s.toml", "");
  const std::string script = slurm_script("/tmp/s.toml", spec, 4, "/opt/kvsim", "/home/u");
  CHECK(script.starts_with("#!/bin/bash\n"));
  CHECK(script.find("#SBATCH --array=0-3\n") != std::string::npos);
  CHECK(script.find("cd '/home/u'\n") != std::string::npos);
  CHECK(script.find("exec '/opt/kvsim' sweep '/tmp/s.toml' --slice \"${SLURM_ARRAY_TASK_ID}/4\"\n") != std::string::npos);
}
