// The `mix` workload generator: traffic composed of populations, each of one kind
// (chat, api, agent, batch; see the kinds table in mix.cpp and one file per kind), merged
// into one request stream. A spec is TOML: global keys and an array of [[population]]
// tables. It is read from the [workload] section of a scenario (generator = "mix") or from
// a standalone spec file / built-in preset ("to-c", "to-b": workloads/specs/*.toml,
// compiled in as embedded files of kind "workload") by `kvsim trace synth`.
//
// Global keys: duration (stop at the first arrival after it), num_requests (stop after
// this many; 0 = no limit), rate_scale (multiplies every arrival rate), diurnal =
// { amplitude, period, phase } (sinusoidal modulation of every population's arrivals by
// thinning, see distributions.hpp), spec (a preset name or spec file that the keys here
// override; population entries overlay the spec's entries of the same index).
//
// Merging: populations are merged by arrival time; equal times come out by population
// index, then by the population's own tie-break. Request ids count from 0 in that order;
// session ids count from 0 in order of first turns, so they are unique across populations;
// parent = the id of the session's previous turn; category = index into categories(), the
// type names in order of first appearance over the populations.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <toml++/toml.h>

#include "sim/util/random.hpp"
#include "workloads/request.hpp"
#include "workloads/synth/mix/population.hpp"

namespace kvsim::config {
class Section;
}

namespace kvsim::workload {

struct MixParams {
  double duration = 0;             // s; 0 = no time limit
  std::uint64_t num_requests = 0;  // 0 = no count limit
  double rate_scale = 1.0;
  mix::Diurnal diurnal;
  // The whole spec after layering, with `population` as a table keyed "0", "1", ... (or
  // by name), re-read by the generator to build the populations.
  std::shared_ptr<const toml::table> spec;
  std::string path;      // dotted path of the spec in its document ("workload" or "")
  std::string spec_dir;  // directory of the spec file, when the spec came from a file
};

// Reads a mix spec from section (the keys, or the spec they name and override), checking
// every population; the caller calls section.finish() afterwards.
MixParams parse_mix_params(config::Section& section);

// A spec document by preset name ("to-c") or file path, with `population` arrays turned
// into tables keyed by index so that `population.0.session_rate` can be overridden with
// config::apply_override. dir receives the file's directory ("" for presets).
toml::table load_mix_spec(const std::string& name_or_path, std::string* dir = nullptr);
std::vector<std::string> mix_preset_names();

class MixGenerator : public Source {
 public:
  MixGenerator(MixParams params, Rng rng, std::uint32_t block_size, const std::string& base_dir = "");
  ~MixGenerator() override;

  std::optional<Request> next() override;
  std::uint64_t expected_count() const override { return params_.num_requests; }
  double progress(double now) const override {
    return params_.duration > 0 ? std::min(1.0, now / params_.duration) : -1.0;
  }
  const std::vector<std::string>& categories() const override { return categories_; }

 private:
  struct Head {
    mix::Draft draft;
    std::size_t population;
  };
  struct SessionLink {
    std::uint64_t session;
    std::uint64_t last_request;
  };
  void refill(std::size_t population);

  MixParams params_;
  std::vector<std::unique_ptr<mix::Population>> populations_;
  std::vector<std::vector<std::uint16_t>> category_of_;  // [population][local type]
  std::vector<std::string> categories_;
  std::vector<Head> heads_;  // min-heap on (arrival, population)
  std::unordered_map<std::uint64_t, SessionLink> open_sessions_;  // (population, local session)
  std::uint64_t next_request_ = 0;
  std::uint64_t next_session_ = 0;
  bool done_ = false;
};

}  // namespace kvsim::workload
