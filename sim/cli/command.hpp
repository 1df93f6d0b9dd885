// kvsim's sub-commands. Each lives in its own file under sim/cli/ and is listed once in
// registry.cpp; main.cpp dispatches on the first one or two words ("run", "trace stats").
#pragma once

#include "sim/util/registry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/readers/trace.hpp"

namespace kvsim::cli {

// Command-line arguments of one command, consumed option by option; positionals() comes
// last and rejects every option nobody asked for.
class Args {
 public:
  Args(std::string command, std::vector<std::string> args);

  // "--name" present (and consumed)?
  bool flag(std::string_view name, std::string_view alias = "");
  // Value of "--name VALUE" or "--name=VALUE" (last one wins); nullopt when absent.
  std::optional<std::string> value(std::string_view name, std::string_view alias = "");
  // Every value of a repeatable option, in order.
  std::vector<std::string> values(std::string_view name, std::string_view alias = "");
  // Typed values; a malformed one is an InputError naming the option.
  std::optional<std::uint64_t> unsigned_value(std::string_view name, std::string_view alias = "");
  std::optional<double> number_value(std::string_view name, std::string_view alias = "");
  // Remaining arguments, which must not be options.
  std::vector<std::string> positionals();

  [[noreturn]] void fail(const std::string& message) const;
  const std::string& command() const { return command_; }

 private:
  bool matches(const std::string& arg, std::string_view name, std::string_view alias) const;
  std::string command_;
  std::vector<std::string> args_;
  std::vector<bool> used_;
};

// --format, --block-size (engine blocks, default 16), --trace-block-size, --skip-bad-lines
// and --sort: the options of every command that reads a trace.
workload::TraceOptions trace_options(Args& args);

struct CommandContext {
  std::vector<std::string> args;  // after the command's name
  std::string command_line;       // the whole invocation, quoted for a shell
};

struct Command {
  std::string name;     // "run", "trace stats"
  std::string usage;    // arguments after the name, for `kvsim --help` ("[CONFIG.toml] [options]")
  std::string summary;  // one line for `kvsim --help`
  std::string help;     // full text for `kvsim <name> --help`
  int (*run)(const CommandContext&);
};

// The command family (one file under sim/cli/ per command plus one line in registry.cpp).
const Registry<Command>& commands();

}  // namespace kvsim::cli
