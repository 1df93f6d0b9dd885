#include "sim/engine/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kvsim::engine {

double run_fraction(double sim_time, std::uint64_t done, std::uint64_t expected_requests, double source_progress,
                    double time_limit) {
  double fraction = -1.0;
  if (expected_requests > 0) fraction = double(std::min(done, expected_requests)) / double(expected_requests);
  if (source_progress >= 0) fraction = std::max(fraction, std::min(source_progress, 1.0));
  if (std::isfinite(time_limit) && time_limit > 0) fraction = std::max(fraction, std::min(sim_time / time_limit, 1.0));
  return fraction;
}

std::string progress_text(double sim_time, std::uint64_t done, std::uint64_t expected_requests, double wall,
                          double fraction) {
  char eta[32] = "?";
  if (fraction > 0) std::snprintf(eta, sizeof eta, "%.1f s", wall * (1.0 - fraction) / fraction);
  char line[160];
  if (expected_requests > 0)
    std::snprintf(line, sizeof line, "  sim %.1f s | %llu/%llu requests done | wall %.1f s | ETA %s", sim_time,
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(expected_requests), wall, eta);
  else if (fraction >= 0)
    std::snprintf(line, sizeof line, "  sim %.1f s | %llu requests done (%.0f %%) | wall %.1f s | ETA %s", sim_time,
                  static_cast<unsigned long long>(done), 100.0 * fraction, wall, eta);
  else
    std::snprintf(line, sizeof line, "  sim %.1f s | %llu requests done | wall %.1f s", sim_time,
                  static_cast<unsigned long long>(done), wall);
  return line;
}

Progress::Progress(bool enabled, std::uint64_t expected_requests, std::function<double(double)> source_progress,
                   double time_limit)
    : enabled_(enabled),
      expected_(expected_requests),
      source_progress_(std::move(source_progress)),
      time_limit_(time_limit),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { clear(); }

void Progress::update(double sim_time, std::uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double wall = std::chrono::duration<double>(now - start_).count();
  const double fraction =
      run_fraction(sim_time, done, expected_, source_progress_ ? source_progress_(sim_time) : -1.0, time_limit_);
  std::fprintf(stderr, "\r\033[K%s", progress_text(sim_time, done, expected_, wall, fraction).c_str());
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
