// kvsim command-line entry point: dispatches to the registered commands (sim/cli/).
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <string>

#include "sim/util/interrupt.hpp"
#include <vector>

#include "sim/cli/command.hpp"
#include "sim/util/error.hpp"
#include "sim/version.hpp"

namespace {

void print_main_help() {
  std::cout << "kvsim — discrete-event simulator of LLM serving clusters, centred on the KV cache\n\n"
               "Usage:\n";
  constexpr std::size_t width = 36;
  for (const auto& c : kvsim::cli::commands()) {
    const std::string usage = c.name + " " + c.usage;
    // A usage longer than the column gets its summary on the next line.
    if (usage.size() >= width)
      std::cout << "  kvsim " << usage << "\n  " << std::string(width + 6, ' ') << c.summary << "\n";
    else
      std::cout << "  kvsim " << std::left << std::setw(int(width)) << usage << c.summary << "\n";
  }
  std::cout << "  kvsim " << std::setw(36) << "--version" << "print version information\n"
            << "  kvsim " << std::setw(36) << "<command> --help" << "help on a command\n\n"
               "Documentation: README.md; results schema: results/README.md.\n";
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

}  // namespace

int main(int argc, char** argv) {
  using namespace kvsim;
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      print_main_help();
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "version") {
      std::cout << "kvsim " << version() << " (git " << git_revision() << ", SimGrid " << simgrid_version() << ")\n";
      return 0;
    }
    // Commands of two words ("trace stats") take precedence over one-word ones.
    const cli::Command* command = nullptr;
    std::size_t words = 0;
    for (const auto& c : cli::commands()) {
      const std::size_t n = std::count(c.name.begin(), c.name.end(), ' ') + 1;
      const std::string prefix = n == 1 || args.size() < 2 ? args[0] : args[0] + " " + args[1];
      if (n <= args.size() && c.name == prefix && n > words) {
        command = &c;
        words = n;
      }
    }
    if (!command) throw InputError("command line", 0, "", cli::commands().unknown_message(args[0]));
    args.erase(args.begin(), args.begin() + long(words));
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
      std::cout << command->help;
      return 0;
    }
    return command->run({args, joined_command_line(argc, argv)});
  } catch (const Interrupted& e) {
    std::cerr << "kvsim: " << e.what() << "\n";
    return e.exit_status();
  } catch (const InputError& e) {
    std::cerr << "kvsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "kvsim: internal error: " << e.what() << "\n";
    return 1;
  }
}
