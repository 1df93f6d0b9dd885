// Ctrl-C ends a run cleanly: exit status 130, a message saying what was not written, and no
// results file, temporary or final (issue: a SIGINT used to reach SimGrid's handler, which
// called exit(1) wherever the process was, even inside the HDF5 write).
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/sim/cli_helpers.hpp"

using namespace kvsim;

namespace {
// Sanitized builds run SimGrid's actors on thread contexts (ASan cannot follow its stack
// switching), and there a signal landing in SimGrid's inter-thread synchronisation stalls
// the run: seen with tools/test.sh --sanitize, not yet understood, so skipped there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kThreadContexts = true;
#else
constexpr bool kThreadContexts = false;
#endif
}  // namespace

TEST_CASE("cli: SIGINT during a run exits 130 and leaves no results file" * doctest::skip(kThreadContexts)) {
  test::ScratchDir dir;
  const std::string err = dir.file("stderr.txt");
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(dir.path().c_str()) != 0) _exit(90);
    const int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = open("/dev/null", O_RDWR);
    dup2(fd, 2);
    dup2(null, 1);
    dup2(null, 0);
    // Long enough that the signal arrives mid-simulation (minutes of work).
    execl(KVSIM_BINARY, "kvsim", "run", "--set", "workload.num_requests=5000000", "-o", "out.h5",
          static_cast<char*>(nullptr));
    _exit(91);
  }
  // The temporary results file exists once the simulation is about to start.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    for (const auto& name : dir.entries()) started = started || name.starts_with("out.h5.tmp-");
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const std::string message = test::read_text(err);
  CHECK(message.find("interrupted by SIGINT") != std::string::npos);
  CHECK(dir.entries() == std::vector<std::string>{"stderr.txt"});
}
