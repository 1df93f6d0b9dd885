// The opt-in per-step trace (`kvsim run --trace-steps FILE`): one CSV line per engine step
// of every instance, with the batch shape and the step time, for debugging and plots.
#pragma once

#include <cstdio>
#include <string>

#include "models/compute/perf_model.hpp"

namespace kvsim::engine {

class StepTrace {
 public:
  // Opens path for writing (InputError naming it on failure) and writes the header.
  explicit StepTrace(const std::string& path);
  ~StepTrace();
  StepTrace(const StepTrace&) = delete;
  StepTrace& operator=(const StepTrace&) = delete;

  void step(int instance, double start, double end, const compute::BatchShape& shape,
            const compute::StepBreakdown& breakdown);
  // Flushes and closes; throws InputError if anything failed to be written.
  void close();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace kvsim::engine
