// One population of the `mix` workload spec: a stream of draft requests in arrival order
// that the mixer (mix.hpp) merges with the other populations'. A population kind is one
// file under workloads/synth/mix/ plus one line in the kinds table of mix.cpp.
//
// Shared pieces live here: request types (a weight and per-type lengths, think times and
// shared prompts), pools of shared prompts with Zipf popularity, and the content model of
// workloads/synth/chat.hpp (segment_blocks), so that equal block identities mean equal
// prefixes in every population.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/util/random.hpp"
#include "workloads/request.hpp"
#include "workloads/synth/chat.hpp"
#include "workloads/synth/mix/distributions.hpp"

namespace kvsim::config {
class Section;
}

namespace kvsim::workload::mix {

// What the mixer needs besides the request: the population-local session, and whether the
// session has another turn coming (so the mixer can forget it after its last one).
struct Draft {
  Request request;           // session = population-local session id; category = local type index
  bool continues = false;    // another turn of this session follows
};

class Population {
 public:
  virtual ~Population() = default;
  // Next draft in non-decreasing arrival order; nullopt when the population is exhausted.
  virtual std::optional<Draft> next() = 0;
  // Type names, indexed by Draft::request.category.
  virtual const std::vector<std::string>& types() const = 0;
};

// Everything a population is built with besides its own parameters.
struct PopulationContext {
  Rng rng;                   // the population's own stream
  std::uint32_t block_size = 16;
  double rate_scale = 1.0;   // multiplies every arrival rate
  Diurnal diurnal;
  // Relative files are resolved against it; nullopt = validate only, read no file.
  std::optional<std::string> base_dir;
};

// Which per-type keys a kind reads.
struct TypeFields {
  bool first_message = false;
  bool think_time = false;
  bool prompts = true;
  bool context_carry = false;  // sessions: whether a follow-up keeps the history
};

// A request type: its share of the population's requests (or sessions) and its lengths.
struct TypeSpec {
  std::string name = "text";
  double weight = 1.0;
  LengthDist message;        // new tokens of a request (user message, unique suffix, tool result)
  LengthDist first_message;  // turn 1's new tokens (sessions)
  LengthDist output;
  TimeDist think_time;       // gap before the next turn of a session of this type
  std::uint32_t prompts = 0;     // distinct shared prompts of this type (0 = none)
  LengthDist prompt;             // their lengths, drawn once
  double prompt_zipf = 1.0;      // popularity exponent over them
  // Sessions: probability that a follow-up turn carries the previous context (input +
  // output); otherwise it restarts from the shared prompt + its message.
  double context_carry = 1.0;
};

// Reads the table `types` of section: one sub-table per type name (alphabetical order),
// each over the fallback d; an absent table gives the single type d.
std::vector<TypeSpec> parse_types(config::Section& section, const TypeSpec& d, const TypeFields& fields,
                                  const std::optional<std::string>& base_dir);

// Picks a type by weight.
class TypePicker {
 public:
  explicit TypePicker(const std::vector<TypeSpec>& types);
  std::uint16_t pick(Rng& rng) const;

 private:
  std::vector<double> cdf_;
};

// Content identities of one population: fresh unique contents, and shared prompts
// (lengths drawn once, Zipf popularity).
class ContentPool {
 public:
  explicit ContentPool(std::uint64_t salt) : salt_(salt) {}
  std::uint64_t fresh() { return mix64(salt_ + 2 * next_fresh_++ + 1); }
  // Adds n shared prompts with lengths from dist; returns the index of the first.
  std::size_t add_prompts(std::uint32_t n, const LengthDist& dist, Rng& rng);
  std::uint64_t prompt_content(std::size_t index) const { return mix64(salt_ + 2 * index); }
  std::uint32_t prompt_tokens(std::size_t index) const { return prompt_lengths_[index]; }

 private:
  std::uint64_t salt_;
  std::uint64_t next_fresh_ = 0;
  std::vector<std::uint32_t> prompt_lengths_;
};

// Common parameter groups.
struct LimitSpec {
  std::uint32_t max_input = 131072;   // tokens
  std::uint32_t max_output = 16384;
  std::uint32_t max_context = 131072 + 16384;
};
LimitSpec parse_limits(config::Section& section, const LimitSpec& d);

// Kind registry entry: parses its own keys from the population's section and builds.
struct PopulationKind {
  const char* name;
  const char* summary;
  std::unique_ptr<Population> (*build)(config::Section& section, PopulationContext context);
};

std::unique_ptr<Population> build_session_population(config::Section& section, PopulationContext context,
                                                     bool agent);
std::unique_ptr<Population> build_api_population(config::Section& section, PopulationContext context);
std::unique_ptr<Population> build_batch_population(config::Section& section, PopulationContext context);

}  // namespace kvsim::workload::mix
