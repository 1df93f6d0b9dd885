// Builds the run's workload Source from the [workload] config section. Generators are
// registered in one table in source_factory.cpp: adding one is its own file plus one line
// there. Trace readers will join through the same entry point.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/util/random.hpp"
#include "sim/util/registry.hpp"
#include "workloads/request.hpp"
#include "workloads/workload_spec.hpp"

namespace kvsim::config {
class Section;
}

namespace kvsim::workload {

struct GeneratorInfo {
  std::string_view name;     // value of `generator` in the config
  std::string_view summary;  // one line for `kvsim list`
  // Reads (and so documents, for `kvsim describe`) the generator's parameters.
  void (*read_params)(config::Section& section);
  // Reads the parameters from section and binds them: the returned function builds the
  // generator on the stream Rng::stream(seed, "workload") each time it is called.
  std::function<std::unique_ptr<Source>()> (*bind)(config::Section& section, std::uint64_t seed,
                                                    std::uint32_t block_size, const std::string& base_dir);
};

// What the [workload] section says besides the source itself, for the simulator.
struct WorkloadSettings {
  // Replay sessions closed-loop: a follow-up turn is released its think time after its
  // parent completes (Request::think_time, or the trace's gap between the two arrivals when
  // unknown) instead of at its own arrival time. Read here, applied by the simulator.
  bool closed_loop = false;
};

const Registry<GeneratorInfo>& workload_generators();
std::vector<std::string> workload_generator_names();

// Reads `generator` (default "chat") and that generator's parameters from
// workload_section, and builds it on the stream Rng::stream(seed, "workload"); or, when
// `trace` is set (and `generator` is not), opens that trace file with the trace keys
// (format, trace_block_size, speed, window_start, window_end, limit, skip_bad_lines, sort;
// workloads/readers/trace.hpp). block_size is the KV block size in tokens; base_dir is the
// directory relative file names in the section are resolved against (the config file's
// directory, "" = cwd). settings, when given, receives closed_loop.
// The caller calls workload_section.finish() afterwards.
WorkloadSpec make_workload_spec(config::Section& workload_section, std::uint64_t seed, std::uint32_t block_size,
                                const std::string& base_dir);
// The same, opened at once (tools and tests that want a source now).
std::unique_ptr<Source> make_source(config::Section& workload_section, std::uint64_t seed,
                                    std::uint32_t block_size, const std::string& base_dir,
                                    WorkloadSettings* settings = nullptr);

}  // namespace kvsim::workload
