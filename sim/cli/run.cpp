// kvsim run: simulate one scenario.
#include <chrono>
#include <iostream>
#include <memory>

#include <unistd.h>

#include "sim/cli/command.hpp"
#include "sim/config/scenario.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/results/records.hpp"
#include "sim/util/interrupt.hpp"
#include "sim/version.hpp"

namespace kvsim::cli {

extern const char* const kRunHelp;
const char* const kRunHelp = R"(Usage: kvsim run [CONFIG.toml] [options]

Simulates one scenario and writes its results file (HDF5, schema in results/README.md).
Without CONFIG.toml the embedded default scenario runs (print it with --print-config).

Options:
  --set KEY=VALUE   override any config key by its dotted path, e.g. --set workload.rate=12
                    --set instances.count=4 --set platform.gpu=h200 (repeatable)
  -o, --output PATH results file (overrides output.path; "" writes none)
  --seed N          random seed (overrides run.seed)
  --json            print the summary as one JSON object on stdout (the table goes to stderr)
  --quiet           no progress line and no summary table
  --verbose         log the engine's decisions (SimGrid XBT categories)
  --print-config    print the resolved config (TOML) and exit without simulating
  --trace-steps F   write one CSV line per engine step of every instance to F (start, end,
                    batch shape, step time by operator), for debugging and plots
  -h, --help        this help

Exit status: 0 on success, 2 on invalid input (config, paths), 1 on internal errors.
)";

int run_command(const CommandContext& context) {
  Args args("run", context.args);
  config::LoadOptions load;
  load.overrides = args.values("--set");
  load.output = args.value("--output", "-o");
  load.seed = args.unsigned_value("--seed");
  const bool json = args.flag("--json");
  const bool quiet = args.flag("--quiet", "-q");
  const bool verbose = args.flag("--verbose", "-v");
  const bool print_config = args.flag("--print-config");
  const std::string trace_steps = args.value("--trace-steps").value_or("");
  const auto files = args.positionals();
  if (files.size() > 1) args.fail("more than one config file given (" + files[0] + ", " + files[1] + ")");
  if (!files.empty()) load.config_path = files[0];
  if (quiet && verbose) args.fail("--quiet and --verbose exclude each other");

  install_interrupt_handlers();
  const auto wall_start = std::chrono::steady_clock::now();
  config::Scenario scenario = config::load_scenario(load);
  if (print_config) {
    std::cout << scenario.resolved_toml;
    return 0;
  }
  // The results file is created (under its temporary name) before the simulation, so an
  // unwritable location fails before any time is spent, and /requests rows stream into it
  // as they become final instead of piling up in memory.
  std::unique_ptr<results::ResultsFile> file;
  if (!scenario.output_path.empty()) {
    results::check_output_path(scenario.output_path);
    file = std::make_unique<results::ResultsFile>(scenario.output_path);
  }
  results::SummaryBuilder summary_builder;
  engine::RunOptions options;
  options.progress = !quiet && isatty(STDERR_FILENO);
  options.verbose = verbose;
  options.trace_steps = trace_steps;
  options.request_sink = [&](std::span<const results::RequestRecord> rows) {
    for (const auto& r : rows) summary_builder.add(r);
    if (file) file->append_requests(rows);
  };
  engine::RunOutput output = engine::simulate(scenario, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const results::Summary summary = summary_builder.finish(output.sim_duration, wall);
  std::string workload_report;
  for (const auto& [name, count] : output.workload_report)
    workload_report += (workload_report.empty() ? "" : "; ") + name + "=" + std::to_string(count);

  if (file) {
    results::RunMetadata meta;
    meta.kvsim_version = version();
    meta.git_revision = git_revision();
    meta.simgrid_version = simgrid_version();
    meta.seed = scenario.seed;
    meta.command_line = context.command_line;
    meta.config_toml = scenario.resolved_toml;
    meta.wall_time = wall;
    meta.workload_report = workload_report;
    file->commit(meta, {{}, output.tiers, output.links, output.tier_samples, output.instance_samples, output.link_samples}, summary);
  }
  std::ostream& table_out = json ? std::cerr : std::cout;
  if (!quiet) {
    results::print_summary_table(table_out, summary);
    if (!workload_report.empty()) table_out << "workload      not replayed: " << workload_report << "\n";
    if (!scenario.output_path.empty()) table_out << "results: " << scenario.output_path << "\n";
  }
  if (json) {
    results::print_summary_json(std::cout, summary);  // ends with its own newline
    std::cout.flush();
  }
  return 0;
}

}  // namespace kvsim::cli
