// The trace-reading options shared by every command that reads a trace.
#include "sim/cli/command.hpp"
#include "sim/config/units.hpp"
#include "sim/util/error.hpp"

namespace kvsim::cli {

namespace {
std::optional<std::uint32_t> block_size_option(Args& args, const char* name) {
  const auto v = args.unsigned_value(name);
  if (!v) return std::nullopt;
  if (*v == 0 || *v > 0xffffffffULL)
    throw InputError("command line", 0, name, "expected a block size between 1 and 2^32-1 tokens");
  return static_cast<std::uint32_t>(*v);
}
}  // namespace

workload::TraceOptions trace_options(Args& args) {
  workload::TraceOptions options;
  if (const auto f = args.value("--format")) options.format = *f;
  if (const auto b = block_size_option(args, "--block-size")) options.block_size = *b;
  if (const auto b = block_size_option(args, "--trace-block-size")) options.trace_block_size = *b;
  options.skip_bad_lines = args.flag("--skip-bad-lines");
  options.sort = args.flag("--sort");
  // A window of trace time (units accepted: 1h, 3600s); arrivals are rebased to its start.
  const auto time_option = [&](const char* name) -> std::optional<double> {
    const auto text = args.value(name);
    if (!text) return std::nullopt;
    try {
      return config::parse_quantity(*text, config::Dimension::time);
    } catch (const std::invalid_argument& e) {
      throw InputError("command line", 0, name, e.what());
    }
  };
  if (const auto t = time_option("--window-start")) options.window_start = *t;
  if (const auto t = time_option("--window-end")) options.window_end = *t;
  if (!(options.window_start <= options.window_end))
    throw InputError("command line", 0, "--window-end", "the window ends before --window-start");
  return options;
}

}  // namespace kvsim::cli
