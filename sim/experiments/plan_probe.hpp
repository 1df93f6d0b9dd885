// One probe of `kvsim plan`: a configuration simulated under several seeds, each as a sweep
// point (same runner, same resumable files), decided on all of them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/experiments/point_runner.hpp"

namespace kvsim::experiments {

struct SeedRun {
  std::uint64_t seed = 0;
  std::string path;
  std::map<std::string, double> summary;  // /summary columns
  bool pass = false;                       // slo_pass == 1
};

struct Probe {
  std::vector<std::string> overrides;  // "key=value", what this probe varies last
  std::vector<SeedRun> runs;
  bool pass = false;  // every seed passes
};

class ProbeRunner {
 public:
  // base: scenario path ("" = embedded); fixed: --set overrides for every probe; extra: more
  // `kvsim run` options (the --slo bounds); files go to output_dir, named by a hash of their
  // definition so a rerun reuses them.
  ProbeRunner(std::string base, std::vector<std::string> fixed, std::vector<std::string> extra,
              std::vector<std::uint64_t> seeds, std::string output_dir, unsigned parallel);

  // Runs (or reuses) the seeds of one configuration. Throws InputError naming the probe when
  // a run fails (an invalid value) and std::runtime_error when its summary lacks slo_pass.
  Probe run(const std::vector<std::string>& overrides);
  std::size_t simulations() const { return simulations_; }
  std::size_t seeds_per_probe() const { return seeds_.size(); }

 private:
  std::string base_;
  std::vector<std::string> fixed_, extra_;
  std::vector<std::uint64_t> seeds_;
  std::string output_dir_;
  unsigned parallel_;
  std::size_t simulations_ = 0;
};

}  // namespace kvsim::experiments
