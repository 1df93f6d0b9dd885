// Offline batch population of the mix spec (kind = "batch"): a job of `requests` requests
// submitted all at once at time `start` (and again every `repeat` seconds when repeat > 0,
// divided by rate_scale), in the lower service class `priority` (default 1), as offline
// batch inference shares a cluster with online traffic. Each request is its own
// single-turn session: a shared prompt of its type (Zipf popularity; a batch usually runs
// one instruction over many documents) + a unique message, and the type's output. Diurnal
// modulation does not apply (jobs are scheduled, not user-driven).
// Tie-break: a job's requests come out in submission order.
//
// Random draws: "sizes" stream: type, prompt rank, message and output lengths, request
// by request; "prompts": content salt, then prompt lengths type by type.
#include <algorithm>

#include "sim/config/reader.hpp"
#include "workloads/synth/mix/population.hpp"

namespace kvsim::workload::mix {

namespace {

struct BatchParams {
  double start = 0;
  std::uint64_t requests = 1000;
  double repeat = 0;
  std::uint8_t priority = 1;
  std::vector<TypeSpec> types;
  LimitSpec limits;
};

class BatchPopulation final : public Population {
 public:
  BatchPopulation(BatchParams params, PopulationContext context)
      : p_(std::move(params)), block_size_(context.block_size), picker_(p_.types), pool_(0) {
    sizes_ = Rng::stream(context.rng.next_u64(), "mix.batch.sizes");
    Rng prompts = Rng::stream(context.rng.next_u64(), "mix.batch.prompts");
    pool_ = ContentPool(prompts.next_u64());
    for (const auto& t : p_.types) {
      type_names_.push_back(t.name);
      first_prompt_.push_back(pool_.add_prompts(t.prompts, t.prompt, prompts));
      popularity_.emplace_back(std::max<std::uint32_t>(t.prompts, 1), t.prompt_zipf);
    }
    period_ = p_.repeat / context.rate_scale;
    job_time_ = p_.start;
  }

  const std::vector<std::string>& types() const override { return type_names_; }

  std::optional<Draft> next() override {
    if (p_.requests == 0) return std::nullopt;
    if (issued_in_job_ == p_.requests) {
      if (!(period_ > 0)) return std::nullopt;
      job_time_ += period_;
      issued_in_job_ = 0;
    }
    ++issued_in_job_;
    Draft d;
    Request& r = d.request;
    r.session = next_session_++;
    r.category = picker_.pick(sizes_);
    r.arrival = job_time_;
    r.priority = p_.priority;
    const TypeSpec& type = p_.types[r.category];
    const std::uint32_t cap = std::min(p_.limits.max_input, p_.limits.max_context - 1);
    std::vector<ContentSegment> segments;
    std::uint32_t prompt = 0;
    if (type.prompts > 0) {
      const std::size_t index = first_prompt_[r.category] + popularity_[r.category].sample(sizes_);
      prompt = std::min(pool_.prompt_tokens(index), cap - 1);
      segments.push_back({pool_.prompt_content(index), prompt});
    }
    const std::uint32_t message = std::min(type.message.draw(sizes_), cap - prompt);
    segments.push_back({pool_.fresh(), message});
    r.input_tokens = prompt + message;
    r.output_tokens = std::min(std::min(type.output.draw(sizes_), p_.limits.max_output),
                               p_.limits.max_context - r.input_tokens);
    r.blocks = segment_blocks(segments, block_size_);
    return d;
  }

 private:
  BatchParams p_;
  std::uint32_t block_size_;
  TypePicker picker_;
  ContentPool pool_;
  Rng sizes_;
  std::vector<std::string> type_names_;
  std::vector<std::size_t> first_prompt_;
  std::vector<ZipfSampler> popularity_;
  double period_ = 0;
  double job_time_ = 0;
  std::uint64_t issued_in_job_ = 0;
  std::uint64_t next_session_ = 0;
};

}  // namespace

std::unique_ptr<Population> build_batch_population(config::Section& s, PopulationContext context) {
  using config::Dimension;
  BatchParams p;
  p.start = s.quantity("start", Dimension::time, p.start, "Submission time of the (first) job.");
  p.requests = static_cast<std::uint64_t>(
      s.integer("requests", static_cast<std::int64_t>(p.requests), "Requests per job.", 0));
  p.repeat = s.quantity("repeat", Dimension::time, p.repeat,
                        "Period between jobs (divided by rate_scale); 0 = a single job.");
  p.priority = static_cast<std::uint8_t>(
      s.integer("priority", p.priority, "Service class of the job's requests (0 = online; larger = lower).", 0, 255));
  TypeSpec d;
  d.name = "batch";
  d.message = LengthDist::lognormal(1000, 0.8);
  d.output = LengthDist::lognormal(200, 0.7);
  d.prompts = 1;
  d.prompt = LengthDist::lognormal(500, 0.0);
  p.types = parse_types(s, d, {.first_message = false, .think_time = false, .prompts = true}, context.base_dir);
  p.limits = parse_limits(s, {});
  return std::make_unique<BatchPopulation>(std::move(p), std::move(context));
}

}  // namespace kvsim::workload::mix
