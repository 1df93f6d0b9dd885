// kvsim sweep: run every point of a sweep file (locally, under MPI, or as Slurm array
// slices) and index the results.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include "sim/cli/command.hpp"
#include "sim/experiments/mpi_sweep.hpp"
#include "sim/experiments/sweep.hpp"
#include "sim/util/error.hpp"
#include "sim/util/interrupt.hpp"

namespace kvsim::cli {

extern const char* const kSweepHelp;
const char* const kSweepHelp = R"(Usage: kvsim sweep SWEEP.toml [options]

Runs every point of a sweep (a base scenario varied over axes of dotted keys, as a full
grid and/or zipped lists, times seeds), each as its own `kvsim run` process writing its own
results file, and writes an index of all points (index.h5, table /index, and index.csv)
into the sweep's output directory: point id, each axis value, seed, status (ok, failed,
missing), error, results file (relative to the index) and every /summary figure.

Sweep file:
  [sweep]
  base = "scenario.toml"      # optional, relative to the sweep file (default: embedded scenario)
  name = "dram"               # optional (default: the file's stem)
  output = "results/dram"     # optional (default: results/<name>)
  seeds = [1, 2]              # or repetitions = N (seeds first_seed.., first_seed defaults to 1)
  set = ["workload.rate=20"]  # optional overrides for every point
  [grid]                      # full product, first axis outermost
  instances.count = [4, 8]
  [zip]                       # equal-length lists varied together
  kvcache.dram.capacity = ["64GiB", "256GiB"]
  kvcache.dram.eviction = ["lru", "wa"]

Points whose results file exists are skipped (resumable); a failed point is reported with
its error (also kept in <file>.err) and does not stop the others.

Options:
  -j, --jobs N          points run in parallel on this machine (default 1)
  --output DIR          output directory (overrides sweep.output)
  --list                print the points (id, overrides, seed, file) and exit
  --slice I/K           run only the points whose id is I modulo K, write no index
  --emit-slurm FILE     write an sbatch script of a job array running the slices, and exit
  --array K             number of array tasks for --emit-slurm (default: one per point, at most 1000)
  --collect             run nothing: build the index from the files present
  -h, --help            this help

Under MPI (`mpirun -n N kvsim sweep SWEEP.toml`, or srun) the ranks share the points
dynamically and rank 0 writes the index; without a launcher no MPI is used.

Exit status: 0 every point succeeded, 1 some point failed or is missing, 2 invalid input,
130 interrupted (finished points are kept; rerun to resume).
)";

int sweep_command(const CommandContext& context) {
  using namespace kvsim::experiments;
  Args args("sweep", context.args);
  const auto jobs_option = args.unsigned_value("--jobs", "-j");
  const auto output = args.value("--output");
  const bool list = args.flag("--list");
  const auto slice_text = args.value("--slice");
  const auto emit_slurm = args.value("--emit-slurm");
  const auto array = args.unsigned_value("--array");
  const bool collect = args.flag("--collect");
  const auto files = args.positionals();
  if (files.size() != 1) args.fail(files.empty() ? "no sweep file given" : "more than one sweep file given");
  if (jobs_option && (*jobs_option == 0 || *jobs_option > 1024))
    throw InputError("command line", 0, "--jobs", "expected 1 to 1024 parallel points");
  if (array && !emit_slurm) args.fail("--array goes with --emit-slurm");
  if (array && (*array == 0 || *array > 100000)) throw InputError("command line", 0, "--array", "expected 1 to 100000 tasks");
  if (int(bool(slice_text)) + int(bool(emit_slurm)) + int(collect) + int(list) > 1)
    args.fail("--slice, --emit-slurm, --collect and --list exclude each other");

  SweepSpec spec = parse_sweep_file(files[0]);
  if (output) spec.output_dir = *output;
  const std::vector<Point> points = expand_points(spec);
  const std::vector<PointJob> jobs = make_jobs(spec, points);

  if (list) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      std::cout << points[i].id;
      for (const auto& o : jobs[i].overrides) std::cout << " --set " << o;
      std::cout << " --seed " << points[i].seed << " -o " << jobs[i].output << "\n";
    }
    return 0;
  }
  if (emit_slurm) {
    const std::size_t tasks = array ? std::size_t(*array) : std::min<std::size_t>(points.size(), 1000);
    std::filesystem::create_directories(spec.output_dir);  // Slurm does not create the log folder
    const std::string temp = *emit_slurm + ".tmp-" + std::to_string(::getpid());
    {
      std::ofstream out(temp, std::ios::binary);
      out << slurm_script(files[0], spec, tasks, self_executable(), std::filesystem::current_path().string());
      if (!out.flush()) throw InputError(*emit_slurm, 0, "--emit-slurm", "cannot write the script");
    }
    std::filesystem::permissions(temp, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec,
                                 std::filesystem::perm_options::add);
    std::filesystem::rename(temp, *emit_slurm);
    std::cerr << "wrote " << *emit_slurm << ": " << tasks << " array tasks over " << points.size()
              << " points; submit with `sbatch " << *emit_slurm << "`, then run `kvsim sweep " << files[0]
              << " --collect`\n";
    return 0;
  }

  auto report = [&](const IndexCounts& counts) {
    std::cerr << "index: " << index_path(spec, "h5") << " and " << index_path(spec, "csv") << " (" << counts.done
              << " ok, " << counts.failed << " failed, " << counts.missing << " missing of " << points.size()
              << " points)\n";
    return counts.failed + counts.missing == 0 ? 0 : 1;
  };
  if (collect) return report(write_index(spec, points));

  // An unusable output folder is the user's input problem, caught before any point starts.
  std::error_code ec;
  std::filesystem::create_directories(spec.output_dir, ec);
  if (ec || !std::filesystem::is_directory(spec.output_dir) || ::access(spec.output_dir.c_str(), W_OK) != 0)
    throw InputError(spec.source, 0, "sweep.output",
                     "cannot write into the output folder " + spec.output_dir + (ec ? ": " + ec.message() : ""));

  std::vector<std::size_t> selected;
  Slice slice;
  if (slice_text) slice = parse_slice(*slice_text);
  for (std::size_t i = 0; i < points.size(); ++i)
    if (slice.contains(points[i].id)) selected.push_back(i);
  std::vector<PointJob> selected_jobs;
  for (const auto i : selected) selected_jobs.push_back(jobs[i]);

  install_interrupt_handlers();
  if (launched_by_mpi()) {
    // One point per rank at a time (--jobs does not apply): ranks are the parallelism.
    SweepProgress progress(std::cerr, selected.size(), false);
    const MpiSweepResult r = run_points_mpi(selected_jobs, [&](std::size_t i, const PointOutcome& o, bool skipped) {
      progress.finished(point_label(spec, points[selected[i]]), o, skipped);
    });
    if (!r.root) return 0;
    progress.close();
    if (r.interrupted) return 130;
    if (slice_text) return 0;
    return report(write_index(spec, points));
  }

  SweepProgress progress(std::cerr, selected.size(), isatty(STDERR_FILENO) != 0);
  std::size_t failed = 0;
  const bool completed = run_points(selected_jobs, unsigned(jobs_option.value_or(1)),
                                    [&](std::size_t i, const PointOutcome& o, bool skipped) {
                                      if (o.state == PointState::failed) ++failed;
                                      progress.finished(point_label(spec, points[selected[i]]), o, skipped);
                                    });
  progress.close();
  if (!completed) {
    std::cerr << "sweep interrupted: finished points are kept, rerun the same command to resume\n";
    return 130;
  }
  if (slice_text) {
    std::cerr << "slice " << *slice_text << ": " << selected.size() - failed << " of " << selected.size()
              << " points ok; build the index with --collect once every slice has run\n";
    return failed == 0 ? 0 : 1;
  }
  return report(write_index(spec, points));
}

}  // namespace kvsim::cli
