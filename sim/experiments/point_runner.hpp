// Runs simulation points, each in its own process: `kvsim run` re-executed from
// /proc/self/exe with the point's overrides, seed and output path.
//
// Why a new process per point rather than a fork of this one: a simulation cannot run twice
// in one process (SimGrid's clock does not reset), a fork would inherit whatever the parent
// holds (an MPI library's state and threads, open HDF5 handles), and exec gives the point
// exactly the code path, validation and atomic results writing of `kvsim run`, so a sweep
// point and a hand-made run of the same settings are the same thing.
//
// Outcome on disk, so that any process (a local sweep, an MPI rank, a Slurm task, --collect)
// can tell it afterwards: the results file exists only complete (kvsim run writes it under
// a temporary name and renames it); a failed point leaves "<file>.err" holding its error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace kvsim::experiments {

struct PointJob {
  std::string base;                    // scenario file ("" = embedded default)
  std::vector<std::string> overrides;  // "key=value"
  std::uint64_t seed = 0;
  std::string output;                  // results file path
  std::vector<std::string> extra_args;  // more `kvsim run` options (e.g. --slo ttft.p99=2s)
};

enum class PointState { done, failed, missing };

struct PointOutcome {
  PointState state = PointState::missing;
  std::string error;  // failed: the point's error message
};

// What the files say about a point's output path.
PointOutcome point_outcome(const std::string& output);

// The `kvsim run` arguments of a job (after the program name).
std::vector<std::string> run_arguments(const PointJob& job);

// Starts the job's process; its stderr goes to "<output>.log-<pid>" until it ends.
pid_t start_point(const PointJob& job);
// Records a finished process's outcome (exit status from waitpid) on disk and returns it.
// A point stopped by a signal (Ctrl-C) is left missing, so a rerun does it again.
PointOutcome finish_point(const PointJob& job, pid_t pid, int wait_status);

// Runs jobs with at most `parallel` processes at a time, skipping those already done.
// on_finished(index, outcome, skipped) is called in completion order. Returns false when
// interrupted (no new job starts after Ctrl-C; running ones are waited for).
bool run_points(const std::vector<PointJob>& jobs, unsigned parallel,
                const std::function<void(std::size_t, const PointOutcome&, bool)>& on_finished);

// Where this executable is, for re-executing it (/proc/self/exe resolved).
std::string self_executable();

}  // namespace kvsim::experiments
