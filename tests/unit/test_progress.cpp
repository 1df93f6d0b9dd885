// The progress line's ETA (sim/engine/progress.hpp) and the Source::progress of the
// sources that bound a run without a request count: a trace (share of the file read) and
// a duration-bounded generator.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>

#include <doctest/doctest.h>

#include "sim/engine/progress.hpp"
#include "sim/util/random.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/synth/chat.hpp"

using kvsim::engine::progress_text;
using kvsim::engine::run_fraction;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

TEST_CASE("progress: the run's fraction is the furthest of its bounds") {
  CHECK(run_fraction(10, 25, 100, -1, kInf) == 0.25);     // request count
  CHECK(run_fraction(10, 25, 0, 0.4, kInf) == 0.4);       // trace or duration
  CHECK(run_fraction(30, 25, 0, -1, 120) == 0.25);        // time limit
  CHECK(run_fraction(30, 25, 100, 0.1, 60) == 0.5);       // the first bound reached ends the run
  CHECK(run_fraction(30, 25, 0, -1, kInf) < 0);            // unbounded: unknown
  CHECK(run_fraction(300, 25, 0, 1.7, 120) == 1.0);       // clamped
}

TEST_CASE("progress: ETA = wall x (1 - f) / f") {
  // A quarter done after 3 s: 9 s to go.
  CHECK(progress_text(12.0, 25, 100, 3.0, 0.25) == "  sim 12.0 s | 25/100 requests done | wall 3.0 s | ETA 9.0 s");
  // Duration- or trace-bounded: no total count, the share instead.
  CHECK(progress_text(50.0, 40, 0, 2.0, 0.8) == "  sim 50.0 s | 40 requests done (80 %) | wall 2.0 s | ETA 0.5 s");
  CHECK(progress_text(0.0, 0, 0, 0.2, 0.0) == "  sim 0.0 s | 0 requests done (0 %) | wall 0.2 s | ETA ?");
  CHECK(progress_text(5.0, 3, 0, 1.0, -1.0) == "  sim 5.0 s | 3 requests done | wall 1.0 s");
}

TEST_CASE("progress: a trace reports the share of its file read, a duration-bounded generator its time") {
  const auto path = std::filesystem::temp_directory_path() / ("kvsim_progress_" + std::to_string(::getpid()) + ".jsonl");
  {
    // Four lines of the same length (timestamps 1000..4000 ms keep the width).
    std::ofstream out(path);
    for (int i = 1; i <= 4; ++i)
      out << "{\"timestamp\": " << i * 1000 << ", \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [" << i
          << "]}\n";
  }
  kvsim::workload::TraceOptions options;
  options.block_size = 16;
  options.trace_block_size = 16;
  auto source = kvsim::workload::open_trace(path.string(), options);
  REQUIRE(source->next());
  REQUIRE(source->next());
  CHECK(source->progress(0) == 0.5);
  REQUIRE(source->next());
  CHECK(source->progress(0) == 0.75);
  REQUIRE(source->next());
  CHECK_FALSE(source->next());
  CHECK(source->progress(0) == 1.0);
  std::filesystem::remove(path);

  kvsim::workload::ChatParams params;
  params.num_requests = 0;
  params.duration = 200;
  kvsim::workload::ChatGenerator bounded(params, kvsim::Rng(1), 16);
  CHECK(bounded.progress(50) == 0.25);
  params.duration = 0;
  params.num_requests = 10;
  kvsim::workload::ChatGenerator counted(params, kvsim::Rng(1), 16);
  CHECK(counted.progress(50) < 0);  // bounded by its count: expected_count() says it
}
