// Ctrl-C (SIGINT) and SIGTERM end a run cleanly at any point: the first signal only sets a
// flag, which the simulation's actors check at each event and the results writer checks
// before it puts a file in place; the run then stops with an Interrupted exception, its
// temporary files are removed, and kvsim exits with 128 + the signal number. A second
// signal ends the process at once, after removing the registered temporary file.
#pragma once

#include <stdexcept>
#include <string>

namespace kvsim {

class Interrupted : public std::runtime_error {
 public:
  Interrupted(int signal, const std::string& message) : std::runtime_error(message), signal_(signal) {}
  int signal() const { return signal_; }
  int exit_status() const { return 128 + signal_; }

 private:
  int signal_;
};

// Installs kvsim's handlers (again: SimGrid's Engine installs its own SIGINT handler, which
// exits inside whatever is running, so the simulation re-installs kvsim's after it).
void install_interrupt_handlers();
bool interrupt_requested();
// Throws Interrupted saying what was not done ("the simulation stopped at 12.5 s") when a
// signal arrived.
void throw_if_interrupted(const std::string& what_was_lost);
// The temporary file a second signal removes before exiting ("" = none).
void set_interrupt_cleanup_path(const std::string& path);

}  // namespace kvsim
