// The `trace` command group: `kvsim trace --help` lists its subcommands (taken from the
// registry, so the list cannot drift), and `kvsim trace` alone or with an unknown
// subcommand is an input error naming the valid ones. The subcommands themselves are
// registered as two-word commands ("trace stats"), which the dispatcher prefers.
#include "sim/cli/command.hpp"
#include "sim/util/error.hpp"

namespace kvsim::cli {

namespace {

std::string subcommand_names() {
  std::string names;
  for (const auto& c : commands())
    if (c.name.rfind("trace ", 0) == 0) names += (names.empty() ? "" : ", ") + c.name.substr(6);
  return names;
}

int trace_group_command(const CommandContext& context) {
  if (context.args.empty())
    throw InputError("command line", 0, "", "kvsim trace needs a subcommand: " + subcommand_names() +
                                                " (kvsim trace --help)");
  throw InputError("command line", 0, "", "unknown trace subcommand \"" + context.args[0] +
                                              "\" (subcommands: " + subcommand_names() + ")");
}

}  // namespace

Command trace_group(const std::vector<Command>& registered) {
  std::string help = "Usage: kvsim trace SUBCOMMAND [options]\n\nWork with request traces:\n";
  for (const auto& c : registered)
    if (c.name.rfind("trace ", 0) == 0) {
      std::string line = "  kvsim " + c.name + " " + c.usage;
      if (line.size() < 52) line.resize(52, ' ');
      else line += "\n" + std::string(52, ' ');
      help += line + c.summary + "\n";
    }
  help += "\nkvsim trace SUBCOMMAND --help gives the options of each; workloads/README.md the formats.\n";
  return {"trace", "SUBCOMMAND [options]", "work with traces: synth, convert, stats, profile (kvsim trace --help)", help,
          trace_group_command};
}

}  // namespace kvsim::cli
