// The command registry: a command is one file under sim/cli/ plus one line here.
#include "sim/cli/command.hpp"

namespace kvsim::cli {

extern const char* const kRunHelp;
int run_command(const CommandContext&);
int list_command(const CommandContext&);
int describe_command(const CommandContext&);
extern const char* const kTraceSynthHelp;
int trace_synth_command(const CommandContext&);
extern const char* const kTraceConvertHelp;
int trace_convert_command(const CommandContext&);
extern const char* const kTraceStatsHelp;
int trace_stats_command(const CommandContext&);
extern const char* const kCacheHelp;
int cache_command(const CommandContext&);
extern const char* const kTraceProfileHelp;
int trace_profile_command(const CommandContext&);
extern const char* const kStepHelp;
int step_command(const CommandContext&);
extern const char* const kCalibrateFitHelp;
int calibrate_fit_command(const CommandContext&);
extern const char* const kCalibrateImportHelp;
int calibrate_import_command(const CommandContext&);
extern const char* const kCalibratePredictHelp;
int calibrate_predict_command(const CommandContext&);

extern const char* const kReportHelp;
int report_command(const CommandContext&);
extern const char* const kSweepHelp;
int sweep_command(const CommandContext&);
extern const char* const kPlanHelp;
int plan_command(const CommandContext&);
extern const char* const kPlatformShowHelp;
int platform_show_command(const CommandContext&);

Command trace_group(const std::vector<Command>& registered);

const Registry<Command>& commands() {
  static const Registry<Command> registry("command", [] {
    std::vector<Command> r{
      {"run", "[CONFIG.toml] [options]", "simulate a scenario (no CONFIG: the embedded default)", kRunHelp, run_command},
      {"list", "[FAMILY]", "list registered variants (routers, policies, compute, formats, generators, gpus, nodes, models, clusters)",
       "Usage: kvsim list [routers|policies|compute|formats|generators|gpus|nodes|models|clusters]\n", list_command},
      {"describe", "NAME", "parameters of a scenario section or family member (e.g. scenario, workload.chat)",
       "Usage: kvsim describe NAME\n  NAME: scenario, a scenario section (instances, workload, ...), "
       "routing.<router>, eviction.<policy>, workload.<generator>, gpu.<card>, node.<card>, llm.<card>,\n"
       "        results (the results file's tables and columns; --json for tools)\n",
       describe_command},
      {"trace synth", "SPEC.toml|PRESET [options] -o OUT", "generate a trace from a mix spec or preset (to-c, to-b)",
       kTraceSynthHelp, trace_synth_command},
      {"trace convert", "TRACE -o OUT --to FORMAT [options]",
       "convert a trace (bailian, mooncake, azure, burstgpt, kvsim) to kvsim, bailian or mooncake",
       kTraceConvertHelp, trace_convert_command},
      {"trace stats", "TRACE [options]", "characterise a trace: mix, lengths, ideal hit ratios, reuse intervals",
       kTraceStatsHelp, trace_stats_command},
      {"trace profile", "TRACE --until T -o PROFILE.toml [options]",
       "fit the per-category reuse model of the wa eviction policy", kTraceProfileHelp, trace_profile_command},
      {"cache", "TRACE --policy P,... --capacity C,... [options]",
       "timing-free cache replay: hit ratios per eviction policy and capacity", kCacheHelp, cache_command},
      {"step", "[CONFIG.toml] --prefill N[+C][xK]... --decode K@C... [--json]",
       "predicted time of one engine step of a batch, per operator", kStepHelp, step_command},
      {"calibrate fit", "TABLE... --gpu GPU [-o CARD.toml]",
       "fit the step-time model's knobs to measured kernel times; writes a calibration card", kCalibrateFitHelp,
       calibrate_fit_command},
      {"calibrate import", "VIDUR.csv... --gpu GPU -o OUT.csv",
       "convert Vidur profiling CSVs into kvsim's measured-operator schema", kCalibrateImportHelp,
       calibrate_import_command},
      {"calibrate predict", "TABLE -o OUT.csv [--calibration CARD]",
       "predict every row of a measured-operator table (for tools/validate_compute)", kCalibratePredictHelp,
       calibrate_predict_command},
      {"report", "RUN.h5 [RUN2.h5 ...] [--json]", "a results file's summary, or several compared side by side",
       kReportHelp, report_command},
      {"sweep", "SWEEP.toml [--jobs N] [--slice I/K | --emit-slurm F | --collect]",
       "run a sweep's points (locally, under mpirun, or as Slurm array slices) and index them", kSweepHelp,
       sweep_command},
      {"plan", "[SCENARIO.toml] --slo M.S=T... (--vary KEY=LO..HI [--cost] | --max-load LO..HI)",
       "smallest or cheapest configuration meeting every SLO, or the highest load within SLO", kPlanHelp,
       plan_command},
      {"platform show", "CARD [--route A B]", "build a cluster card's platform: hosts, links, a route",
       kPlatformShowHelp, platform_show_command},
    };
    r.push_back(trace_group(r));  // `kvsim trace --help`: the group's subcommands
    return r;
  }());
  return registry;
}

}  // namespace kvsim::cli
