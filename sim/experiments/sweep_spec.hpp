// A sweep file (`kvsim sweep SWEEP.toml`) and the points it expands to.
//
//   [sweep]
//   base = "scenario.toml"        # optional, relative to the sweep file; default: the embedded scenario
//   name = "dram"                 # optional; default: the sweep file's stem
//   output = "results/dram"       # optional; default: results/<name> (relative to the working directory)
//   seeds = [1, 2]                # or: repetitions = 2 (seeds first_seed, first_seed+1, ...)
//   set = ["workload.rate=20"]    # optional overrides shared by every point (as --set)
//   [grid]                        # full product of these axes, in file order
//   instances.count = [4, 8]
//   [zip]                         # lists of equal length varied together
//   "kvcache.dram.capacity" = ["64GiB", "256GiB"]
//   kvcache.dram.eviction = ["lru", "wa"]
//
// Points are the product grid × zip × seeds, grid axes outermost in file order, seeds
// innermost. Each point is a set of `--set KEY=VALUE` overrides applied to the base scenario
// by the same code as `kvsim run --set` (config::apply_override, in the point's process).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvsim::experiments {

struct Axis {
  std::string key;                  // dotted scenario key
  std::vector<std::string> values;  // TOML value texts: 8, 0.5, "256GiB", true
  bool zipped = false;
};

struct SweepSpec {
  std::string source;     // the sweep file's path (for errors)
  std::string name;
  std::string base;       // scenario path ("" = the embedded default), resolved against the sweep file
  std::string output_dir;
  std::vector<std::uint64_t> seeds;
  std::vector<std::string> fixed_overrides;  // "key=value"
  std::vector<Axis> axes;                     // grid axes first, then zipped ones
};

struct Point {
  std::size_t id = 0;
  std::vector<std::string> axis_values;  // one TOML value text per axis, as in SweepSpec::axes
  std::uint64_t seed = 0;
  std::string file_name;  // "p0003-1a2b3c4d.h5", relative to the output directory
};

// Parses a sweep file; InputError (file, line, field) on any problem.
SweepSpec parse_sweep_file(const std::string& path);
SweepSpec parse_sweep_text(const std::string& text, const std::string& source, const std::string& directory);

std::vector<Point> expand_points(const SweepSpec& spec);

// "key=value" overrides of one point: the fixed ones, then one per axis.
std::vector<std::string> point_overrides(const SweepSpec& spec, const Point& point);

// A TOML value text as a plain cell (strings unquoted): "\"256GiB\"" -> 256GiB.
std::string plain_value(const std::string& toml_text);

// FNV-1a 64 of a text, for file names that change when a point's definition changes.
std::uint64_t fnv1a(const std::string& text);

}  // namespace kvsim::experiments
