// kvsim trace convert: reads a trace in any supported format and writes it in one kvsim
// can write (kvsim's own, bailian, mooncake), mapping block identities to --block-size.
#include <iostream>

#include "sim/cli/command.hpp"
#include "sim/util/error.hpp"
#include "workloads/readers/trace.hpp"

namespace kvsim::cli {

extern const char* const kTraceConvertHelp;
const char* const kTraceConvertHelp = R"(Usage: kvsim trace convert TRACE -o OUT --to FORMAT [options]

Reads TRACE (bailian, mooncake, azure, burstgpt or kvsim; detected from the first line) and
writes OUT in FORMAT (kvsim, bailian or mooncake). OUT is written to a temporary name and
renamed when complete. Prints the number of requests written and what was dropped.

Options:
  -o, --output OUT        file to write (required)
  --to FORMAT             kvsim, bailian or mooncake (required)
  --format F              format of TRACE instead of detecting it
  --block-size N          block size of OUT's hashes in tokens (default: TRACE's own, or 16
                          when TRACE has no hashes)
  --trace-block-size N    block size of TRACE's hashes (default: the format's: bailian 16,
                          mooncake 512, kvsim its header)
  --skip-bad-lines        count malformed lines instead of failing on the first one
  --sort                  sort by time (reads TRACE into memory) instead of failing when
                          timestamps go back
  --limit N               convert at most N requests
  -h, --help              this help

Re-read a bailian or mooncake file written with a block size other than its format's
default with --trace-block-size (or trace_block_size) equal to that block size.
)";

namespace {

// Counts what passes through, for the closing message.
class CountingSource final : public workload::Source {
 public:
  explicit CountingSource(workload::Source& inner) : inner_(inner) {}
  std::optional<workload::Request> next() override {
    auto r = inner_.next();
    if (r) ++count_;
    return r;
  }
  const std::vector<std::string>& categories() const override { return inner_.categories(); }
  std::uint64_t count() const { return count_; }

 private:
  workload::Source& inner_;
  std::uint64_t count_ = 0;
};

}  // namespace

int trace_convert_command(const CommandContext& context) {
  Args args("trace convert", context.args);
  workload::TraceOptions options;
  const auto output = args.value("--output", "-o");
  const auto to = args.value("--to");
  if (const auto f = args.value("--format")) options.format = *f;
  const auto block_size = args.unsigned_value("--block-size");
  const auto trace_block_size = args.unsigned_value("--trace-block-size");
  options.skip_bad_lines = args.flag("--skip-bad-lines");
  options.sort = args.flag("--sort");
  if (const auto limit = args.unsigned_value("--limit")) options.limit = *limit;
  const auto files = args.positionals();
  if (files.size() != 1) args.fail(files.empty() ? "expected a TRACE file" : "expected one TRACE file");
  if (!output || output->empty()) args.fail("expected -o OUT");
  if (!to) args.fail("expected --to FORMAT (" + [] {
    std::string names;
    for (const auto& n : workload::trace_writer_names()) names += (names.empty() ? "" : ", ") + n;
    return names;
  }() + ")");
  const auto check_size = [&](const std::optional<std::uint64_t>& v, const char* name) {
    if (v && (*v == 0 || *v > 0xffffffffULL))
      throw InputError("command line", 0, name, "expected a block size between 1 and 2^32-1 tokens");
  };
  check_size(block_size, "--block-size");
  check_size(trace_block_size, "--trace-block-size");
  if (trace_block_size) options.trace_block_size = std::uint32_t(*trace_block_size);
  if (block_size) {
    options.block_size = std::uint32_t(*block_size);
  } else {
    const std::uint32_t own = workload::trace_hash_block_size(files[0], options);
    options.block_size = own ? own : 16;
  }

  auto source = workload::open_trace(files[0], options);
  CountingSource counting(*source);
  workload::write_trace(counting, *output, *to, options.block_size);
  std::cout << "wrote " << counting.count() << " requests to " << *output << " (" << *to << ", block size "
            << options.block_size << ")";
  for (const auto& [name, count] : source->report()) std::cout << "; " << name << ": " << count;
  std::cout << "\n";
  return 0;
}

}  // namespace kvsim::cli
