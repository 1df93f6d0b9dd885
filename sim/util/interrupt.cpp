#include "sim/util/interrupt.hpp"

#include <csignal>
#include <cstring>

#include <unistd.h>

namespace kvsim {

namespace {

volatile std::sig_atomic_t received = 0;
// A fixed buffer: the handler may only use async-signal-safe calls (unlink, _exit).
char cleanup_path[4096] = {};

extern "C" void on_signal(int signal) {
  if (received != 0) {
    if (cleanup_path[0] != '\0') ::unlink(cleanup_path);
    ::_exit(128 + signal);
  }
  received = signal;
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;  // system calls the signal interrupts resume
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupt_requested() { return received != 0; }

void throw_if_interrupted(const std::string& what_was_lost) {
  if (received == 0) return;
  const int signal = received;
  throw Interrupted(signal, std::string("interrupted by ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ": " +
                                what_was_lost);
}

void set_interrupt_cleanup_path(const std::string& path) {
  const std::size_t n = std::min(path.size(), sizeof cleanup_path - 1);
  std::memcpy(cleanup_path, path.data(), n);
  cleanup_path[n] = '\0';
}

}  // namespace kvsim
