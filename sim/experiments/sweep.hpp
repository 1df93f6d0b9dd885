// Running a sweep: the points' jobs, local or sliced execution with a progress line, and the
// index built from what is on disk (so a local run, MPI ranks, Slurm array tasks and
// --collect all produce the same index from the same files).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/experiments/index_table.hpp"
#include "sim/experiments/point_runner.hpp"
#include "sim/experiments/sweep_spec.hpp"

namespace kvsim::experiments {

std::vector<PointJob> make_jobs(const SweepSpec& spec, const std::vector<Point>& points);

// "I/K" (0 <= I < K): the points whose id is I modulo K. InputError otherwise.
struct Slice {
  std::size_t index = 0;
  std::size_t count = 1;
  bool contains(std::size_t point_id) const { return point_id % count == index; }
};
Slice parse_slice(const std::string& text);

// Index rows from the files on disk; also counts the points in each state.
struct IndexCounts {
  std::size_t done = 0, failed = 0, missing = 0;
};
IndexTable build_index(const SweepSpec& spec, const std::vector<Point>& points, IndexCounts* counts = nullptr);
std::string index_path(const SweepSpec& spec, const std::string& extension);  // "<output>/index.<ext>"
// Builds the index and writes index.h5 and index.csv.
IndexCounts write_index(const SweepSpec& spec, const std::vector<Point>& points);

// Progress line on stderr: points done / total, failures, elapsed and ETA. On a terminal it
// rewrites one line; otherwise it prints a line per finished point (logs, MPI, Slurm).
class SweepProgress {
 public:
  SweepProgress(std::ostream& out, std::size_t total, bool terminal);
  void finished(const std::string& label, const PointOutcome& outcome, bool skipped);
  void close();

 private:
  std::ostream& out_;
  std::size_t total_, done_ = 0, failed_ = 0, skipped_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
};

// "p0003 (instances.count=8, seed 2)"
std::string point_label(const SweepSpec& spec, const Point& point);

// The sbatch script of a job array of `tasks` tasks, each running one slice of the sweep.
// sweep_file and the working directory are made absolute so the tasks find them anywhere.
std::string slurm_script(const std::string& sweep_file, const SweepSpec& spec, std::size_t tasks,
                         const std::string& executable, const std::string& working_directory);

// True when this process was started by an MPI launcher (mpirun, srun with PMI/PMIx):
// decided from the environment only, without loading MPI.
bool launched_by_mpi();

}  // namespace kvsim::experiments
