// Errors about user input (config files, traces, command-line values, output paths).
// Every such error names where the bad input is (file and line when there is one),
// which field, and what was expected; the CLI prints what() and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace kvsim {

class InputError : public std::runtime_error {
 public:
  // file may be a path or a pseudo-source such as "--set" or "<default scenario>";
  // line 0 means "no line" (the whole file, or a command-line value).
  InputError(std::string file, long line, std::string field, const std::string& message);
  explicit InputError(const std::string& message) : std::runtime_error(message) {}

  const std::string& file() const { return file_; }
  long line() const { return line_; }
  const std::string& field() const { return field_; }

 private:
  std::string file_;
  long line_ = 0;
  std::string field_;
};

}  // namespace kvsim
