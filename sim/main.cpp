// kvsim command-line interface.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "models/scheduling/routing/router.hpp"
#include "sim/config/embedded.hpp"
#include "sim/config/scenario.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/results/records.hpp"
#include "sim/util/error.hpp"
#include "sim/version.hpp"
#include "workloads/source_factory.hpp"

namespace {

using namespace kvsim;

constexpr const char* kMainHelp = R"(kvsim — discrete-event simulator of LLM serving clusters, centred on the KV cache

Usage:
  kvsim run [CONFIG.toml] [options]   simulate a scenario (no CONFIG: the embedded default)
  kvsim list [FAMILY]                 list registered variants (routers, generators, gpus, nodes, models)
  kvsim describe NAME                 parameters of a family member (e.g. "scenario", "workload.chat")
  kvsim --version                     print version information
  kvsim <command> --help              help on a command

Documentation: README.md; results schema: results/README.md.
)";

constexpr const char* kRunHelp = R"(Usage: kvsim run [CONFIG.toml] [options]

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
  -h, --help        this help

Exit status: 0 on success, 2 on invalid input (config, paths), 1 on internal errors.
)";

struct RunArgs {
  config::LoadOptions load;
  bool json = false, quiet = false, verbose = false, print_config = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  throw InputError("command line", 0, "", message + " (see kvsim run --help)");
}

std::uint64_t parse_seed(const std::string& text) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-')
    throw InputError("command line", 0, "--seed", "expected a non-negative integer, got \"" + text + "\"");
  return value;
}

RunArgs parse_run_args(const std::vector<std::string>& args) {
  RunArgs run;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= args.size()) usage_error(std::string(flag) + " needs a value");
      return args[++i];
    };
    if (a == "--set") run.load.overrides.push_back(value("--set"));
    else if (a.starts_with("--set=")) run.load.overrides.push_back(a.substr(6));
    else if (a == "-o" || a == "--output") run.load.output = value("--output");
    else if (a.starts_with("--output=")) run.load.output = a.substr(9);
    else if (a == "--seed") run.load.seed = parse_seed(value("--seed"));
    else if (a.starts_with("--seed=")) run.load.seed = parse_seed(a.substr(7));
    else if (a == "--json") run.json = true;
    else if (a == "--quiet" || a == "-q") run.quiet = true;
    else if (a == "--verbose" || a == "-v") run.verbose = true;
    else if (a == "--print-config") run.print_config = true;
    else if (a.starts_with("-")) usage_error("unknown option " + a);
    else if (run.load.config_path.empty()) run.load.config_path = a;
    else usage_error("more than one config file given (" + run.load.config_path + ", " + a + ")");
  }
  if (run.quiet && run.verbose) usage_error("--quiet and --verbose exclude each other");
  return run;
}

std::string joined_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    const std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_of(" \t\"'$\\") == std::string::npos;
    line += plain ? arg : "'" + arg + "'";
  }
  return line;
}

int command_run(const std::vector<std::string>& args, const std::string& command_line) {
  const RunArgs run = parse_run_args(args);
  const auto wall_start = std::chrono::steady_clock::now();
  config::Scenario scenario = config::load_scenario(run.load);
  if (run.print_config) {
    std::cout << scenario.resolved_toml;
    return 0;
  }
  // Fail on an unwritable output location before spending time on the simulation.
  if (!scenario.output_path.empty()) results::check_output_path(scenario.output_path);
  engine::RunOptions options;
  options.progress = !run.quiet && isatty(STDERR_FILENO);
  options.verbose = run.verbose;
  engine::RunOutput output = engine::simulate(scenario, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const results::Summary summary = results::summarize(output.requests, output.sim_duration, wall);

  if (!scenario.output_path.empty()) {
    results::RunMetadata meta;
    meta.kvsim_version = version();
    meta.git_revision = git_revision();
    meta.simgrid_version = simgrid_version();
    meta.seed = scenario.seed;
    meta.command_line = command_line;
    meta.config_toml = scenario.resolved_toml;
    meta.wall_time = wall;
    results::write_hdf5(scenario.output_path, meta, output.requests, summary);
  }
  std::ostream& table_out = run.json ? std::cerr : std::cout;
  if (!run.quiet) {
    results::print_summary_table(table_out, summary);
    if (!scenario.output_path.empty()) table_out << "results: " << scenario.output_path << "\n";
  }
  if (run.json) {
    results::print_summary_json(std::cout, summary);  // ends with its own newline
    std::cout.flush();
  }
  return 0;
}

void print_docs(const std::vector<config::ParamDoc>& docs, const std::string& prefix) {
  for (const auto& d : docs) {
    if (!prefix.empty() && !d.key.starts_with(prefix)) continue;
    std::cout << "  " << d.key << "  (" << d.type << (d.unit.empty() ? "" : ", " + d.unit) << ", default "
              << d.default_value << ")\n      " << d.help << "\n";
  }
}

int command_list(const std::vector<std::string>& args) {
  const std::string family = args.empty() ? "" : args[0];
  bool any = false;
  auto section = [&](const std::string& name) {
    if (!family.empty() && family != name) return false;
    std::cout << name << ":\n";
    any = true;
    return true;
  };
  if (section("routers"))
    for (const auto& r : scheduling::routing::routers()) std::cout << "  " << r.name << "  " << r.help << "\n";
  if (section("generators"))
    for (const auto& g : workload::workload_generators()) std::cout << "  " << g.name << "  " << g.summary << "\n";
  for (const auto& [title, kind] : {std::pair{"gpus", "gpu"}, {"nodes", "node"}, {"models", "llm"}})
    if (section(title))
      for (const auto& f : config::embedded_files())
        if (f.kind == kind) std::cout << "  " << f.name << "  (" << f.path << ")\n";
  if (!any)
    throw InputError("command line", 0, "list", "unknown family \"" + family +
                                                    "\"; families: routers, generators, gpus, nodes, models");
  return 0;
}

int command_describe(const std::vector<std::string>& args) {
  if (args.empty()) throw InputError("command line", 0, "describe", "expected a name, e.g. scenario or workload.chat");
  const std::string& name = args[0];
  const auto docs = config::describe_scenario();
  if (name == "scenario") {
    std::cout << "scenario parameters (key, type and unit, default, meaning):\n";
    print_docs(docs, "");
    return 0;
  }
  for (const auto& f : config::embedded_files()) {
    if (name == std::string(f.kind) + "." + std::string(f.name)) {
      std::cout << "# " << f.path << "\n" << f.text;
      return 0;
    }
  }
  for (const auto& r : scheduling::routing::routers())
    if (name == "routing." + r.name) {
      std::cout << r.name << ": " << r.help << "\n  (no parameters)\n";
      return 0;
    }
  for (const auto& g : workload::workload_generators()) {
    if (name != "workload." + std::string(g.name)) continue;
    auto context = std::make_shared<config::ReadContext>();
    config::Section empty(nullptr, "workload", context);
    g.read_params(empty);
    std::cout << g.name << ": " << g.summary << "\n";
    print_docs(context->docs, "");
    return 0;
  }
  // A section of the scenario ("instances", "compute", ...).
  bool found = false;
  for (const auto& d : docs) found = found || d.key.starts_with(name + ".");
  if (found) {
    print_docs(docs, name + ".");
    return 0;
  }
  throw InputError("command line", 0, "describe",
                   "unknown name \"" + name + "\"; try scenario, a section (instances, workload, ...), "
                   "routing.<router>, workload.<generator>, gpu.<card>, node.<card> or llm.<card> (see kvsim list)");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      std::cout << kMainHelp;
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "version") {
      std::cout << "kvsim " << version() << " (git " << git_revision() << ", SimGrid " << simgrid_version() << ")\n";
      return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    const bool help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                      std::find(args.begin(), args.end(), "-h") != args.end();
    if (command == "run") {
      if (help) return std::cout << kRunHelp, 0;
      return command_run(args, joined_command_line(argc, argv));
    }
    if (command == "list") {
      if (help) return std::cout << "Usage: kvsim list [routers|generators|gpus|nodes|models]\n", 0;
      return command_list(args);
    }
    if (command == "describe") {
      if (help)
        return std::cout << "Usage: kvsim describe NAME\n  NAME: scenario, a scenario section (instances, "
                            "workload, ...), routing.<router>, workload.<generator>, gpu.<card>, node.<card>, "
                            "llm.<card>\n",
               0;
      return command_describe(args);
    }
    throw InputError("command line", 0, "", "unknown command \"" + command + "\" (commands: run, list, describe)");
  } catch (const InputError& e) {
    std::cerr << "kvsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "kvsim: internal error: " << e.what() << "\n";
    return 1;
  }
}
