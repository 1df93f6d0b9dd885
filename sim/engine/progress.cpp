#include "sim/engine/progress.hpp"

#include <cstdio>

namespace kvsim::engine {

Progress::Progress(bool enabled, std::uint64_t expected_requests)
    : enabled_(enabled), expected_(expected_requests), start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { clear(); }

void Progress::update(double sim_time, std::uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double wall = std::chrono::duration<double>(now - start_).count();
  char eta[32] = "?";
  if (expected_ > 0 && done > 0)
    std::snprintf(eta, sizeof eta, "%.1f s", wall * double(expected_ - std::min(done, expected_)) / double(done));
  if (expected_ > 0)
    std::fprintf(stderr, "\r\033[K  sim %.1f s | %llu/%llu requests done | wall %.1f s | ETA %s", sim_time,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(expected_), wall, eta);
  else
    std::fprintf(stderr, "\r\033[K  sim %.1f s | %llu requests done | wall %.1f s", sim_time,
                 static_cast<unsigned long long>(done), wall);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace kvsim::engine
