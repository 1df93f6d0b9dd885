#include "sim/experiments/point_runner.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/util/interrupt.hpp"

extern char** environ;

namespace kvsim::experiments {

namespace {

std::string error_path(const std::string& output) { return output + ".err"; }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The error of a failed `kvsim run`: its last non-empty stderr lines (the error message;
// earlier lines may be warnings).
std::string last_line(const std::string& text) {
  std::size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "";
  const std::size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

std::string log_path(const std::string& output, pid_t pid) { return output + ".log-" + std::to_string(pid); }

}  // namespace

std::string self_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

PointOutcome point_outcome(const std::string& output) {
  if (std::filesystem::is_regular_file(output)) return {PointState::done, ""};
  if (std::filesystem::is_regular_file(error_path(output)))
    return {PointState::failed, last_line(read_all(error_path(output)))};
  return {PointState::missing, ""};
}

std::vector<std::string> run_arguments(const PointJob& job) {
  std::vector<std::string> args{"run"};
  if (!job.base.empty()) args.push_back(job.base);
  for (const auto& o : job.overrides) {
    args.push_back("--set");
    args.push_back(o);
  }
  args.push_back("--seed");
  args.push_back(std::to_string(job.seed));
  args.push_back("-o");
  args.push_back(job.output);
  args.push_back("--quiet");
  for (const auto& a : job.extra_args) args.push_back(a);
  return args;
}

pid_t start_point(const PointJob& job) {
  std::error_code ec;
  const auto parent = std::filesystem::path(job.output).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::filesystem::remove(error_path(job.output), ec);

  static const std::string exe = self_executable();
  std::vector<std::string> args = run_arguments(job);
  args.insert(args.begin(), exe);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The log is named after this (parent) process until the child's pid is known; it is
  // renamed right after the spawn.
  const std::string pending_log = job.output + ".log-starting-" + std::to_string(::getpid());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, pending_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + exe + ": " + std::strerror(rc));
  std::filesystem::rename(pending_log, log_path(job.output, pid), ec);
  return pid;
}

PointOutcome finish_point(const PointJob& job, pid_t pid, int wait_status) {
  const std::string log = log_path(job.output, pid);
  const std::string text = read_all(log);
  std::error_code ec;
  std::filesystem::remove(log, ec);
  if (WIFSIGNALED(wait_status) || (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) >= 128))
    return {PointState::missing, "interrupted"};
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 && std::filesystem::is_regular_file(job.output))
    return {PointState::done, ""};
  std::string message = last_line(text);
  if (message.empty())
    message = "kvsim run exited with status " + std::to_string(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1) +
              " without a results file";
  std::ofstream(error_path(job.output), std::ios::binary) << text << (text.empty() ? message + "\n" : "");
  return {PointState::failed, message};
}

bool run_points(const std::vector<PointJob>& jobs, unsigned parallel,
                const std::function<void(std::size_t, const PointOutcome&, bool)>& on_finished) {
  if (parallel == 0) parallel = 1;
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  while (true) {
    while (!interrupt_requested() && running.size() < parallel && next < jobs.size()) {
      const std::size_t i = next++;
      if (point_outcome(jobs[i].output).state == PointState::done) {
        on_finished(i, {PointState::done, ""}, true);
        continue;
      }
      running.emplace(start_point(jobs[i]), i);
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;  // not ours
    const std::size_t i = it->second;
    running.erase(it);
    on_finished(i, finish_point(jobs[i], pid, status), false);
  }
  return !interrupt_requested();
}

}  // namespace kvsim::experiments
