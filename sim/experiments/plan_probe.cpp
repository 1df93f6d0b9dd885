#include "sim/experiments/plan_probe.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "sim/results/hdf5_reader.hpp"
#include "sim/experiments/sweep_spec.hpp"
#include "sim/util/error.hpp"
#include "sim/util/interrupt.hpp"

namespace kvsim::experiments {

ProbeRunner::ProbeRunner(std::string base, std::vector<std::string> fixed, std::vector<std::string> extra,
                         std::vector<std::uint64_t> seeds, std::string output_dir, unsigned parallel)
    : base_(std::move(base)),
      fixed_(std::move(fixed)),
      extra_(std::move(extra)),
      seeds_(std::move(seeds)),
      output_dir_(std::move(output_dir)),
      parallel_(parallel) {}

Probe ProbeRunner::run(const std::vector<std::string>& overrides) {
  Probe probe;
  probe.overrides = overrides;
  std::vector<PointJob> jobs;
  for (const auto seed : seeds_) {
    PointJob job{base_, fixed_, seed, "", extra_};
    job.overrides.insert(job.overrides.end(), overrides.begin(), overrides.end());
    std::string identity = base_ + "\n" + std::to_string(seed);
    for (const auto& o : job.overrides) identity += "\n" + o;
    for (const auto& e : extra_) identity += "\n" + e;
    char name[40];
    std::snprintf(name, sizeof name, "probe-%016llx.h5", static_cast<unsigned long long>(fnv1a(identity)));
    job.output = (std::filesystem::path(output_dir_) / name).string();
    jobs.push_back(std::move(job));
  }
  std::string error;
  const bool completed = run_points(jobs, parallel_, [&](std::size_t, const PointOutcome& o, bool skipped) {
    if (!skipped) ++simulations_;
    if (o.state == PointState::failed && error.empty()) error = o.error;
  });
  std::string what;
  for (const auto& o : overrides) what += (what.empty() ? "" : ", ") + o;
  if (!completed) throw_if_interrupted("the plan stopped at the probe " + what);
  if (!error.empty()) throw InputError("plan", 0, what, "a run failed: " + error);
  probe.pass = true;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    SeedRun r{seeds_[i], jobs[i].output, {}, false};
    for (const auto& [name, value] : results::summary_numbers(results::read_run(jobs[i].output))) r.summary[name] = value;
    const auto it = r.summary.find("slo_pass");
    if (it == r.summary.end())
      throw std::runtime_error(jobs[i].output + " has no slo_pass in /summary: this kvsim's runs do not evaluate SLOs");
    r.pass = it->second == 1.0;
    probe.pass = probe.pass && r.pass;
    probe.runs.push_back(std::move(r));
  }
  return probe;
}

}  // namespace kvsim::experiments
