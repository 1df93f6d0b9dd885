// The command registry: a command is one file under sim/cli/ plus one line here.
#include "sim/cli/command.hpp"

namespace kvsim::cli {

extern const char* const kRunHelp;
int run_command(const CommandContext&);
int list_command(const CommandContext&);
int describe_command(const CommandContext&);

const std::vector<Command>& commands() {
  static const std::vector<Command> registry{
      {"run", "[CONFIG.toml] [options]", "simulate a scenario (no CONFIG: the embedded default)", kRunHelp, run_command},
      {"list", "[FAMILY]", "list registered variants (routers, generators, gpus, nodes, models)",
       "Usage: kvsim list [routers|generators|gpus|nodes|models]\n", list_command},
      {"describe", "NAME", "parameters of a scenario section or family member (e.g. scenario, workload.chat)",
       "Usage: kvsim describe NAME\n  NAME: scenario, a scenario section (instances, workload, ...), "
       "routing.<router>, workload.<generator>, gpu.<card>, node.<card>, llm.<card>\n",
       describe_command},
  };
  return registry;
}

}  // namespace kvsim::cli
