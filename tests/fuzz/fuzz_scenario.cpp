// libFuzzer harness: the scenario loader (config text -> load_scenario), which parses TOML,
// reads every section with its bounds, loads cards and builds the workload source. Any text
// either loads or throws kvsim::InputError; any other exception, a crash or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/config/scenario.hpp"
#include "sim/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kvsim::config::LoadOptions options;
  options.config_text = std::string(reinterpret_cast<const char*>(data), size);
  options.output = "";  // never write
  try {
    const kvsim::config::Scenario scenario = kvsim::config::load_scenario(options);
    // Open the workload as a run would and draw a few requests: generators and traces
    // validate lazily too.
    const auto source = scenario.workload.open();
    for (int i = 0; i < 8 && source->next(); ++i) {
    }
  } catch (const kvsim::InputError&) {
  }
  return 0;
}
