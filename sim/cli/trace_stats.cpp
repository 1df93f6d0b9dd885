// kvsim trace stats: characterises a trace (arrivals, lengths, mix, ideal KV-cache reuse and
// reuse intervals per category); the analysis is workloads/analysis/trace_stats.
#include <iostream>
#include <stdexcept>

#include "sim/cli/command.hpp"
#include "sim/config/units.hpp"
#include "sim/util/error.hpp"
#include "workloads/analysis/trace_stats.hpp"
#include "workloads/readers/read_ahead.hpp"
#include "workloads/readers/trace.hpp"

namespace kvsim::cli {

extern const char* const kTraceStatsHelp;
const char* const kTraceStatsHelp = R"(Usage: kvsim trace stats TRACE [options]

Reads TRACE (bailian, mooncake, azure, burstgpt or kvsim; detected from the first line) once
and prints: request and session counts, span, rate and inter-arrival CV; input/output token
percentiles; type and turn mix; the ideal (infinite-cache) block and token hit ratios;
unique blocks, the fraction reused and the reuse skew (share of reuses going to the top 1 %
and 10 % blocks); reuse intervals overall, per type and per category (type x turn) with the
exponential fit (lambda, reuse probability) the workload-aware eviction policy uses; where
hits come from (same/other session, single/multi-turn requests); what the reader dropped.
Definitions: workloads/analysis/trace_stats.hpp and workloads/README.md.

Options:
  --format F              format of TRACE instead of detecting it
  --block-size N          block size of the analysis in tokens (default 16); the reader maps
                          the trace's block identities to it
  --trace-block-size N    block size of TRACE's hashes (default: the format's: bailian 16,
                          mooncake 512, kvsim its header)
  --min-reuse DURATION    reuses sooner than this ("same prompt": retries, duplicates) count
                          as hits but are left out of the per-type/category fits (default 0.3s)
  --json                  print one JSON object instead of the table
  --skip-bad-lines        count malformed lines instead of failing on the first one
  --sort                  sort by time (reads TRACE into memory) instead of failing when
                          timestamps go back
  --window-start T        analyse only requests at or after trace time T (e.g. 1h)
  --window-end T          and at or before trace time T
  -h, --help              this help

Exit status: 0 on success, 2 on invalid input (trace, options), 1 on internal errors.
)";

int trace_stats_command(const CommandContext& context) {
  Args args("trace stats", context.args);
  workload::TraceOptions trace = trace_options(args);
  workload::StatsOptions stats;
  stats.block_size = trace.block_size;
  if (const auto text = args.value("--min-reuse")) {
    try {
      stats.min_reuse = config::parse_quantity(*text, config::Dimension::time);
    } catch (const std::invalid_argument& e) {
      throw InputError("command line", 0, "--min-reuse", e.what());
    }
    if (!(stats.min_reuse >= 0)) throw InputError("command line", 0, "--min-reuse", "expected a duration >= 0");
  }
  const bool json = args.flag("--json");
  const auto files = args.positionals();
  if (files.size() != 1) args.fail(files.empty() ? "expected a TRACE file" : "expected one TRACE file");

  // Parsing on a second thread overlaps the analysis (same requests, same order).
  auto source = workload::read_ahead(workload::open_trace(files[0], trace));
  const workload::TraceStats result = workload::compute_trace_stats(*source, stats);
  if (json)
    workload::print_trace_stats_json(std::cout, result);
  else
    workload::print_trace_stats_table(std::cout, result);
  std::cout.flush();
  return 0;
}

}  // namespace kvsim::cli
