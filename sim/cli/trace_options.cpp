// The trace-reading options shared by every command that reads a trace.
#include "sim/cli/command.hpp"
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
  return options;
}

}  // namespace kvsim::cli
