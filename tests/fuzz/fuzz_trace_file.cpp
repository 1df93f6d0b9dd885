// libFuzzer harness: whole trace files through the public reader API (open_trace and the
// Source it returns), with format detection and with each format forced. Any file either
// reads or throws kvsim::InputError naming it; anything else is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/util/error.hpp"
#include "workloads/readers/trace.hpp"

namespace {

// One file per fuzzing process, rewritten for every input, in the current directory
// (tools/fuzz.sh runs each harness in a scratch directory of its own).
const std::string& scratch_path() {
  static const std::string path = "kvsim_fuzz_trace_" + std::to_string(::getpid()) + ".txt";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch_path();
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) return 0;
    std::fwrite(data, 1, size, file);
    std::fclose(file);
  }
  std::vector<std::string> formats{"auto"};
  for (const auto& name : kvsim::workload::trace_format_names()) formats.push_back(name);
  for (const bool sort : {false, true}) {
    for (const auto& format : formats) {
      kvsim::workload::TraceOptions options;
      options.format = format;
      options.sort = sort;
      options.block_size = sort ? 7 : 16;  // mapping between unequal block sizes too
      try {
        auto source = kvsim::workload::open_trace(path, options);
        while (source->next()) {
        }
        (void)source->report();
      } catch (const kvsim::InputError&) {
      }
    }
  }
  return 0;
}
