// Helpers for tests that drive the real kvsim binary (KVSIM_BINARY): a scratch directory
// removed at the end of the test, and a runner that captures exit status, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvsim::test {

// A fresh directory per use, named by pid and a counter (deterministic, no clock).
class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("kvsim_cli_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

  // Writes text to name inside the directory and returns its full path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string full = file(name);
    std::ofstream out(full, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + full);
    return full;
  }

  // Names of everything inside the directory, recursively, relative to it.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path_))
      names.push_back(std::filesystem::relative(e.path(), path_).string());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Quotes one argument for /bin/sh.
inline std::string shell_quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

struct CliResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string out;
  std::string err;
};

// Runs KVSIM_BINARY with args (from the scratch directory, so default relative output paths
// land there) and captures both streams; stderr goes through a file in the scratch directory.
inline CliResult run_kvsim(const ScratchDir& dir, const std::vector<std::string>& args) {
  const std::string err_path = dir.file(".stderr");
  std::string command = "cd " + shell_quote(dir.path().string()) + " && " + shell_quote(KVSIM_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " 2>" + shell_quote(err_path) + " </dev/null";

  CliResult result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for " + command);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.err = read_text(err_path);
  std::filesystem::remove(err_path);
  return result;
}

}  // namespace kvsim::test
