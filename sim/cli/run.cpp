// kvsim run: simulate one scenario.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include <unistd.h>

#include "sim/cli/command.hpp"
#include "sim/config/instance_groups.hpp"
#include "sim/config/scenario.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/results/records.hpp"
#include "sim/util/interrupt.hpp"
#include "sim/version.hpp"

namespace kvsim::cli {

// --strict: the run completed but is overloaded or misses an SLO bound.
constexpr int kStrictFailureExit = 3;

extern const char* const kRunHelp;
const char* const kRunHelp = R"(Usage: kvsim run [CONFIG.toml] [options]

Simulates one scenario and writes its results file (HDF5, schema in results/README.md).
Without CONFIG.toml the embedded default scenario runs (print it with --print-config).

Options:
  --set KEY=VALUE   override any config key by its dotted path, e.g. --set workload.rate=12
                    --set instances.count=4 --set platform.gpu=h200 (repeatable); in
                    [[instances]] groups by index or name: --set instances.decode.count=24
  -o, --output PATH results file (overrides output.path; "" writes none)
  --seed N          random seed (overrides run.seed)
  --json            print the summary as one JSON object on stdout (the table goes to stderr)
  --quiet           no progress line and no summary table
  --verbose         log the engine's decisions (SimGrid XBT categories)
  --print-config    print the resolved config (TOML) and exit without simulating
  --trace-steps F   write one CSV line per engine step of every instance to F (start, end,
                    batch shape, step time by operator), for debugging and plots
  --slo METRIC.STAT=DURATION
                    an SLO bound (repeatable), as [slo] METRIC.STAT = "DURATION" in a config,
                    which it overrides: METRIC ttft, tpot or e2e; STAT pNN, pNN.N or mean;
                    e.g. --slo ttft.p99=2s --slo tpot.p99=100ms (same as --set slo.ttft.p99=2s)
  --strict          exit with status 3 when the run is overloaded or an SLO bound fails
  -h, --help        this help

Steady state: run.warmup and run.cooldown (durations) leave the requests arriving in the
first warmup seconds and in the last cooldown seconds of arrivals out of the summary (they
are simulated, and flagged in_window = 0 in /requests). The summary reports SLO attainment,
goodput, pass/fail per bound, and whether the run is overloaded (README "SLOs").

Energy and cost: the GPUs' energy (idle_watts all run long, up to tdp while kernels run;
platform.gpu_spec overrides both), per instance in /energy, in total, per output token and
as average power; with [cost] prices (--set cost.gpu_hour=2.5 --set cost.kwh=0.15), the
run's cost and its cost per million output tokens.

Exit status: 0 on success, 2 on invalid input (config, paths), 1 on internal errors,
3 with --strict when the run is overloaded or an SLO bound fails.
)";

namespace {
// The run's energy and cost figures from the per-instance energy and the [cost] prices.
void add_energy(results::Summary& summary, const config::Scenario& scenario, const engine::RunOutput& output) {
  double dram = 0, ssd = 0;
  for (const auto& tier : scenario.kv.lower) {
    const double stores = tier.scope == "instance" ? scenario.instances : tier.scope == "node" ? scenario.nodes : 1;
    if (tier.kind == "dram") dram += tier.capacity * stores;
    if (tier.kind == "ssd") ssd += tier.capacity * stores;
  }
  double gpus = 0;  // serving GPUs: [[instances]] groups may differ in tp
  for (const auto& instance : output.energy) gpus += instance.gpus;
  const auto f = results::energy_figures(output.energy, output.sim_duration, scenario.cost, gpus, dram, ssd,
                                         summary.run_output_tokens);
  summary.energy_joules = f.joules;
  summary.average_power_watts = f.average_watts;
  summary.joules_per_output_token = f.joules_per_output_token;
  summary.cost = f.cost;
  summary.cost_per_million_output_tokens = f.cost_per_million_tokens;
}

// One line per rejection cause. Above 1 % of the requests it is a warning on stderr even
// with --quiet: a run that silently drops a third of its traffic (a model that barely fits,
// prompts beyond the context) answers a different question than the one asked.
void report_rejections(std::ostream& table_out, bool quiet, const results::Summary& summary,
                       const std::vector<results::RejectionCause>& causes) {
  if (summary.rejected == 0) return;
  const bool warn = summary.rejected * 100 > summary.requests;
  if (!warn && quiet) return;
  std::ostream& out = warn ? std::cerr : table_out;
  char share[32];
  std::snprintf(share, sizeof share, "%.3g %%", 100.0 * double(summary.rejected) / double(summary.requests));
  out << (warn ? "kvsim: warning: " : "") << summary.rejected << " of " << summary.requests << " requests (" << share
      << ") were rejected: they can never be served\n";
  for (const auto& cause : causes) out << "  " << cause.count << " x " << cause.example << "\n";
}

}  // namespace

int run_command(const CommandContext& context) {
  Args args("run", context.args);
  config::LoadOptions load;
  load.overrides = args.values("--set");
  // --slo comes after --set, so a bound given with --slo wins over the same one set otherwise.
  for (const std::string& slo : args.values("--slo")) {
    std::string name, value;
    if (const std::string error = results::split_slo_assignment(slo, name, value); !error.empty()) args.fail(error);
    load.overrides.push_back("slo." + name + "=" + value);
  }
  const bool strict = args.flag("--strict");
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
  results::SummaryBuilder summary_builder({scenario.slo, scenario.warmup, scenario.cooldown});
  {
    std::vector<results::GroupRecord> groups;  // the /groups rows
    std::vector<std::int32_t> instance_group;
    config::summary_groups(scenario, groups, instance_group);
    summary_builder.set_groups(std::move(groups), std::move(instance_group));
  }
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
  results::Summary summary = summary_builder.finish(output.sim_duration, wall);
  add_energy(summary, scenario, output);
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
    file->commit(meta, {{}, output.tiers, output.links, output.tier_samples, output.energy,
                          output.energy_samples, output.instance_samples, output.link_samples}, summary);
  }
  std::ostream& table_out = json ? std::cerr : std::cout;
  if (!quiet) {
    results::print_summary_table(table_out, summary);
    if (!workload_report.empty()) table_out << "workload      not replayed: " << workload_report << "\n";
    if (!scenario.output_path.empty()) table_out << "results: " << scenario.output_path << "\n";
  }
  report_rejections(table_out, quiet, summary, output.rejections);
  if (json) {
    results::print_summary_json(std::cout, summary);  // ends with its own newline
    std::cout.flush();
  }
  if (strict && (summary.overloaded || !summary.slo_pass)) return kStrictFailureExit;
  return 0;
}

}  // namespace kvsim::cli
