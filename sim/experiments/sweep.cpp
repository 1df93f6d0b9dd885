#include "sim/experiments/sweep.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <ostream>

#include <toml++/toml.h>

#include "sim/results/hdf5_reader.hpp"
#include "sim/util/error.hpp"

namespace kvsim::experiments {

std::vector<PointJob> make_jobs(const SweepSpec& spec, const std::vector<Point>& points) {
  std::vector<PointJob> jobs;
  for (const auto& p : points)
    jobs.push_back({spec.base, point_overrides(spec, p), p.seed,
                    (std::filesystem::path(spec.output_dir) / p.file_name).string(), {}});
  return jobs;
}

Slice parse_slice(const std::string& text) {
  const auto slash = text.find('/');
  auto number = [&](const std::string& s) -> std::size_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
      throw InputError("command line", 0, "--slice", "expected I/K with 0 <= I < K, got \"" + text + "\"");
    return std::stoul(s);
  };
  if (slash == std::string::npos)
    throw InputError("command line", 0, "--slice", "expected I/K with 0 <= I < K, got \"" + text + "\"");
  Slice s{number(text.substr(0, slash)), number(text.substr(slash + 1))};
  if (s.count == 0 || s.index >= s.count)
    throw InputError("command line", 0, "--slice", "expected I/K with 0 <= I < K, got \"" + text + "\"");
  return s;
}

std::string index_path(const SweepSpec& spec, const std::string& extension) {
  return (std::filesystem::path(spec.output_dir) / ("index." + extension)).string();
}

namespace {

// The column kind an axis gets: integer when every value is a TOML integer, number when
// every value is numeric, text otherwise.
IndexColumn::Kind axis_kind(const Axis& axis) {
  bool all_int = true, all_num = true;
  for (const auto& v : axis.values) {
    toml::table t;
    try {
      t = toml::parse("x = " + v);
    } catch (const toml::parse_error&) {
      return IndexColumn::Kind::text;
    }
    all_int = all_int && t["x"].is_integer();
    all_num = all_num && (t["x"].is_integer() || t["x"].is_floating_point());
  }
  return all_int ? IndexColumn::Kind::integer : all_num ? IndexColumn::Kind::number : IndexColumn::Kind::text;
}

}  // namespace

IndexTable build_index(const SweepSpec& spec, const std::vector<Point>& points, IndexCounts* counts) {
  IndexTable table;
  using K = IndexColumn::Kind;
  table.column("point", K::integer);
  std::vector<K> kinds;
  for (const auto& axis : spec.axes) {
    kinds.push_back(axis_kind(axis));
    table.column(axis.key, kinds.back());
  }
  table.column("seed", K::integer);
  table.column("status", K::text);
  table.column("error", K::text);
  table.column("path", K::text);
  const std::size_t fixed_columns = table.columns.size();
  IndexCounts local;
  for (std::size_t r = 0; r < points.size(); ++r) {
    const Point& p = points[r];
    const std::string file = (std::filesystem::path(spec.output_dir) / p.file_name).string();
    PointOutcome outcome = point_outcome(file);
    std::vector<std::pair<std::string, double>> summary;
    if (outcome.state == PointState::done) {
      try {
        summary = results::summary_numbers(results::read_run(file));
      } catch (const std::exception& e) {
        outcome = {PointState::failed, e.what()};
      }
    }
    std::size_t c = 0;
    table.columns[c++].integers.push_back(std::int64_t(p.id));
    for (std::size_t a = 0; a < spec.axes.size(); ++a, ++c) {
      auto& col = table.columns[c];
      if (kinds[a] == K::integer) col.integers.push_back(std::stoll(p.axis_values[a]));
      else if (kinds[a] == K::number) col.numbers.push_back(std::stod(p.axis_values[a]));
      else col.texts.push_back(plain_value(p.axis_values[a]));
    }
    table.columns[c++].integers.push_back(std::int64_t(p.seed));
    const char* status = outcome.state == PointState::done ? "ok" : outcome.state == PointState::failed ? "failed" : "missing";
    table.columns[c++].texts.push_back(status);
    table.columns[c++].texts.push_back(outcome.error);
    table.columns[c++].texts.push_back(p.file_name);  // relative to the index: the folder can move
    (outcome.state == PointState::done ? local.done : outcome.state == PointState::failed ? local.failed : local.missing)++;
    // Summary columns: the union over points in order of first appearance; a point without
    // a column (failed, missing, or an older file) gets NaN.
    for (const auto& [name, value] : summary) {
      auto& col = table.column(name, K::number);
      col.numbers.resize(r, std::numeric_limits<double>::quiet_NaN());
      col.numbers.push_back(value);
    }
    for (std::size_t s = fixed_columns; s < table.columns.size(); ++s)
      table.columns[s].numbers.resize(r + 1, std::numeric_limits<double>::quiet_NaN());
  }
  if (counts) *counts = local;
  return table;
}

IndexCounts write_index(const SweepSpec& spec, const std::vector<Point>& points) {
  IndexCounts counts;
  const IndexTable table = build_index(spec, points, &counts);
  std::filesystem::create_directories(spec.output_dir);
  write_index_hdf5(table, index_path(spec, "h5"));
  write_index_csv(table, index_path(spec, "csv"));
  return counts;
}

std::string point_label(const SweepSpec& spec, const Point& point) {
  std::string label = point.file_name.substr(0, point.file_name.find('-')) + " (";
  for (std::size_t a = 0; a < spec.axes.size(); ++a) label += spec.axes[a].key + "=" + plain_value(point.axis_values[a]) + ", ";
  return label + "seed " + std::to_string(point.seed) + ")";
}

namespace {

std::string duration_text(double seconds) {
  const long s = std::lround(seconds);
  if (s >= 3600) return std::to_string(s / 3600) + "h" + std::to_string((s % 3600) / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

}  // namespace

SweepProgress::SweepProgress(std::ostream& out, std::size_t total, bool terminal)
    : out_(out), total_(total), terminal_(terminal), start_(std::chrono::steady_clock::now()) {}

void SweepProgress::finished(const std::string& label, const PointOutcome& outcome, bool skipped) {
  ++done_;
  if (skipped) ++skipped_;
  if (outcome.state == PointState::failed) ++failed_;
  if (terminal_) out_ << "\r\033[K";
  if (outcome.state == PointState::failed) out_ << "point " << label << " failed: " << outcome.error << "\n";
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::size_t ran = done_ - skipped_;
  std::string eta = "?";
  if (ran > 0) eta = duration_text(elapsed / double(ran) * double(total_ - done_));
  out_ << "sweep: " << done_ << "/" << total_ << " points done";
  if (skipped_) out_ << " (" << skipped_ << " already there)";
  if (failed_) out_ << ", " << failed_ << " failed";
  out_ << ", elapsed " << duration_text(elapsed) << ", ETA " << (done_ == total_ ? "0s" : eta);
  if (!terminal_) out_ << "  [" << label << (skipped ? " skipped" : "") << "]\n";
  out_.flush();
}

void SweepProgress::close() {
  if (terminal_ && done_ > 0) out_ << "\n";
}

std::string slurm_script(const std::string& sweep_file, const SweepSpec& spec, std::size_t tasks,
                         const std::string& executable, const std::string& working_directory) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string sweep_abs = std::filesystem::absolute(sweep_file).lexically_normal().string();
  std::string s;
  s += "#!/bin/bash\n";
  s += "# Written by `kvsim sweep --emit-slurm` for " + sweep_abs + ".\n";
  s += "# Submit with `sbatch` from anywhere; each array task runs one slice of the sweep's points\n";
  s += "# (point ids congruent to the task id modulo " + std::to_string(tasks) + "), skipping points already done.\n";
  s += "# Afterwards build the index: kvsim sweep " + quote(sweep_abs) + " --collect\n";
  s += "#SBATCH --job-name=kvsim-" + spec.name + "\n";
  s += "#SBATCH --array=0-" + std::to_string(tasks - 1) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=1\n";
  s += "#SBATCH --output=" + (std::filesystem::absolute(spec.output_dir) / "slurm-%A_%a.out").lexically_normal().string() + "\n";
  s += "set -euo pipefail\n";
  s += "cd " + quote(working_directory) + "\n";
  s += "exec " + quote(executable) + " sweep " + quote(sweep_abs) + " --slice \"${SLURM_ARRAY_TASK_ID}/" +
       std::to_string(tasks) + "\"\n";
  return s;
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return true;
  return false;
}

}  // namespace kvsim::experiments
