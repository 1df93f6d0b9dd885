// kvsim trace profile: fits the per-category reuse-time model of the workload-aware
// eviction policy (wa) on the first T seconds of a trace and writes it as a profile file
// (format: models/kvcache/eviction/README.md). The statistics are those of
// `kvsim trace stats` (workloads/analysis/trace_stats.hpp), so both commands agree.
#include <cmath>
#include <iostream>

#include "models/kvcache/eviction/wa_profile.hpp"
#include "sim/cli/command.hpp"
#include "sim/config/units.hpp"
#include "sim/util/error.hpp"
#include "workloads/analysis/trace_stats.hpp"
#include "workloads/readers/trace.hpp"

namespace kvsim::cli {

extern const char* const kTraceProfileHelp;
const char* const kTraceProfileHelp = R"(Usage: kvsim trace profile TRACE --until T -o PROFILE.toml [options]

Fits, per request category (type x turn, e.g. text_1, file_5+), the exponential reuse-time
model of the workload-aware eviction policy `wa` on the requests arriving in the first T of
TRACE (arrivals counted from the first request), and writes it to PROFILE.toml:
lambda = 1 / (mean - min) of the reuse times (1/s), p = reuses attributed to the category /
its block accesses, samples. A reuse is attributed to the category of the request that
touched the block last; reuses within 0.3 s (the same prompt) are ignored.
Use it with: kvsim cache TRACE --policy wa --wa-profile PROFILE.toml ...

Options:
  --until T               profile the requests arriving up to T (a duration: 3600, 1h)
  -o, --output PATH       profile file to write (written to a temporary name, then renamed)
  --format F              format of TRACE instead of detecting it
  --block-size N          block size in tokens (default 16; use the cache's)
  --trace-block-size N    block size of TRACE's hashes (default: the format's)
  --skip-bad-lines        count malformed lines instead of failing on the first one
  --sort                  sort TRACE by time instead of failing when timestamps go back
  --window-start T        replay only requests at or after trace time T (e.g. 1h); arrivals
                          are rebased to the first one kept
  --window-end T          and at or before trace time T
  -h, --help              this help

Exit status: 0 on success, 2 on invalid input (trace, options), 1 on internal errors.
)";

namespace {

// The requests of a source arriving at or before a time.
class UntilSource final : public workload::Source {
 public:
  UntilSource(workload::Source& inner, double until) : inner_(inner), until_(until) {}
  std::optional<workload::Request> next() override {
    if (done_) return std::nullopt;
    auto r = inner_.next();
    if (!r || r->arrival > until_) {
      done_ = true;
      return std::nullopt;
    }
    return r;
  }
  const std::vector<std::string>& categories() const override { return inner_.categories(); }
  std::vector<std::pair<std::string, std::uint64_t>> report() const override { return inner_.report(); }

 private:
  workload::Source& inner_;
  double until_;
  bool done_ = false;
};

}  // namespace

int trace_profile_command(const CommandContext& context) {
  Args args("trace profile", context.args);
  workload::TraceOptions trace = trace_options(args);
  const auto until_text = args.value("--until");
  const auto output = args.value("--output", "-o");
  const auto files = args.positionals();
  if (files.size() != 1) args.fail(files.empty() ? "expected a TRACE file" : "expected one TRACE file");
  if (!until_text) args.fail("--until T is required");
  if (!output || output->empty()) args.fail("-o PROFILE.toml is required");
  double until = 0;
  try {
    until = config::parse_quantity(*until_text, config::Dimension::time);
  } catch (const std::invalid_argument& e) {
    throw InputError("command line", 0, "--until", e.what());
  }
  if (!(until >= 0) || !std::isfinite(until)) throw InputError("command line", 0, "--until", "expected a duration >= 0");

  auto source = workload::open_trace(files[0], trace);
  UntilSource window(*source, until);
  workload::StatsOptions options;
  options.block_size = trace.block_size;
  options.min_reuse = kvcache::eviction::kSamePromptWindow;
  const workload::TraceStats stats = workload::compute_trace_stats(window, options);

  std::vector<kvcache::eviction::ProfileEntry> entries;
  for (const auto& c : stats.categories) {
    kvcache::eviction::ProfileEntry e;
    e.name = c.category;
    e.accesses = c.accesses;
    e.hits = c.interval.count;
    e.model.samples = c.interval.count;
    e.model.p = std::isfinite(c.p_reuse) ? c.p_reuse : 0;
    e.model.lambda = std::isfinite(c.lambda) && c.lambda > 0 ? c.lambda : 0;
    e.mean_reuse_time = c.interval.mean;
    e.min_reuse_time = c.interval.min;
    entries.push_back(e);
  }
  kvcache::eviction::ProfileHeader header;
  header.trace = files[0];
  header.until = until;
  header.block_size = trace.block_size;
  header.command_line = context.command_line;
  kvcache::eviction::write_wa_profile(*output, header, entries);
  std::cerr << "profile: " << *output << " (" << entries.size() << " categories, " << stats.requests
            << " requests up to " << until << " s)\n";
  return 0;
}

}  // namespace kvsim::cli
