// API population of the mix spec (kind = "api"): the to-B traffic of the Bailian study
// (ATC'25), where many programmatic clients send single-turn requests built from a few
// prompt templates each, so reuse comes from shared template prefixes, not sessions.
//
// Model (times in s, lengths in tokens):
//   * `clients` clients; client c (rank 0 largest) sends a share of the traffic
//     proportional to 1 / (c+1)^client_zipf, i.e. rate * share_c * rate_scale per second,
//     by its own arrival process (`process`, default gamma with cv = 3: bursty), diurnally
//     modulated.
//   * Each client owns `templates` prompt templates (lengths from `template`, drawn once),
//     used with Zipf(template_zipf) popularity; a request is template + a unique suffix
//     (the type's `message`) and produces the type's `output`.
//   * Optionally (`system_prompts` > 0) a few system prompts are shared by ALL clients (the
//     platform's or SDK's default prompts; lengths `system_prompt`, drawn once). A client
//     uses one, chosen once by Zipf(`system_prompt_zipf`) popularity, with probability
//     `system_share` (else none): its requests are system prompt + template + suffix.
//     It models prefixes hot across the whole platform, reused within tenths of a second;
//     on the to-b preset it was measured not to help match the real trace's small-cache hit
//     ratio without shortening the median reuse interval (workloads/README.md), so presets
//     leave it off. The choice is per client, not per request: with prefix semantics a
//     template behind different system prompts would be different content, splitting
//     each template's reuse.
//   * Every request is its own single-turn session (turn 1, no parent).
// Tie-break: equal arrival times come out by client rank.
//
// Random draws: "arrivals" stream: client clocks, each as it advances; "sizes": type,
// template rank, suffix and output lengths; "prompts": content salt, template lengths
// client by client, then the system prompts' lengths; "system" (only with system_prompts
// > 0, so specs without them draw exactly as before): each client's system prompt.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "sim/config/reader.hpp"
#include "workloads/synth/mix/population.hpp"

namespace kvsim::workload::mix {

namespace {

struct ApiParams {
  double rate = 20;
  std::uint32_t clients = 100;
  double client_zipf = 1.0;
  ProcessSpec process{ProcessSpec::Model::gamma, 3.0};
  std::uint32_t templates = 10;
  LengthDist template_length = LengthDist::lognormal(500, 1.0);
  double template_zipf = 1.0;
  std::uint32_t system_prompts = 0;  // 0 = no shared system-prompt layer
  LengthDist system_prompt_length = LengthDist::lognormal(100, 0.5);
  double system_prompt_zipf = 1.0;
  double system_share = 1.0;
  std::vector<TypeSpec> types;
  LimitSpec limits;
};

class ApiPopulation final : public Population {
 public:
  ApiPopulation(ApiParams params, PopulationContext context)
      : p_(std::move(params)), block_size_(context.block_size), picker_(p_.types), pool_(0),
        template_popularity_(p_.templates, p_.template_zipf) {
    arrivals_ = Rng::stream(context.rng.next_u64(), "mix.api.arrivals");
    sizes_ = Rng::stream(context.rng.next_u64(), "mix.api.sizes");
    Rng prompts = Rng::stream(context.rng.next_u64(), "mix.api.prompts");
    pool_ = ContentPool(prompts.next_u64());
    for (const auto& t : p_.types) type_names_.push_back(t.name);
    const ZipfSampler shares(p_.clients, p_.client_zipf);
    for (std::uint32_t c = 0; c < p_.clients; ++c) {
      pool_.add_prompts(p_.templates, p_.template_length, prompts);
      clocks_.emplace_back(p_.process, p_.rate * shares.probability(c) * context.rate_scale, context.diurnal);
      heap_.push_back({clocks_.back().next(arrivals_), c});
    }
    std::make_heap(heap_.begin(), heap_.end(), later);
    if (p_.system_prompts > 0) {
      Rng system = Rng::stream(context.rng.next_u64(), "mix.api.system");
      const std::size_t first = pool_.add_prompts(p_.system_prompts, p_.system_prompt_length, prompts);
      const ZipfSampler popularity(p_.system_prompts, p_.system_prompt_zipf);
      client_system_.resize(p_.clients, kNoSystem);
      for (auto& choice : client_system_)
        if (system.uniform01() < p_.system_share) choice = first + popularity.sample(system);
    }
  }

  const std::vector<std::string>& types() const override { return type_names_; }

  std::optional<Draft> next() override {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Next n = heap_.back();
    heap_.back().time = clocks_[n.client].next(arrivals_);
    std::push_heap(heap_.begin(), heap_.end(), later);

    Draft d;
    Request& r = d.request;
    r.session = next_session_++;
    r.category = picker_.pick(sizes_);
    r.arrival = n.time;
    const TypeSpec& type = p_.types[r.category];
    const std::uint32_t cap = std::min(p_.limits.max_input, p_.limits.max_context - 1);
    ContentSegment segments[3];
    std::size_t used = 0;
    std::uint32_t prefix = 0;
    if (!client_system_.empty() && client_system_[n.client] != kNoSystem) {
      const std::size_t system = client_system_[n.client];
      const std::uint32_t tokens = std::min(pool_.prompt_tokens(system), cap - 1);
      segments[used++] = {pool_.prompt_content(system), tokens};
      prefix += tokens;
    }
    const std::size_t index = std::size_t{n.client} * p_.templates + template_popularity_.sample(sizes_);
    const std::uint32_t template_tokens = std::min(pool_.prompt_tokens(index), cap - 1 - prefix);
    segments[used++] = {pool_.prompt_content(index), template_tokens};
    prefix += template_tokens;
    const std::uint32_t suffix = std::min(type.message.draw(sizes_), cap - prefix);
    segments[used++] = {pool_.fresh(), suffix};
    r.input_tokens = prefix + suffix;
    r.output_tokens = std::min(std::min(type.output.draw(sizes_), p_.limits.max_output),
                               p_.limits.max_context - r.input_tokens);
    r.blocks = segment_blocks(std::span<const ContentSegment>(segments, used), block_size_);
    return d;
  }

 private:
  struct Next {
    double time;
    std::uint32_t client;
  };
  static bool later(const Next& a, const Next& b) { return a.time != b.time ? a.time > b.time : a.client > b.client; }

  ApiParams p_;
  std::uint32_t block_size_;
  TypePicker picker_;
  ContentPool pool_;
  ZipfSampler template_popularity_;
  static constexpr std::size_t kNoSystem = SIZE_MAX;
  std::vector<std::size_t> client_system_;  // pool index of each client's system prompt; empty = no layer
  Rng arrivals_, sizes_;
  std::vector<std::string> type_names_;
  std::vector<ArrivalClock> clocks_;
  std::vector<Next> heap_;
  std::uint64_t next_session_ = 0;
};

}  // namespace

std::unique_ptr<Population> build_api_population(config::Section& s, PopulationContext context) {
  using config::Range;
  ApiParams p;
  p.rate = s.number("rate", p.rate, "Requests per second of all clients together (before rate_scale).",
                    Range::positive());
  p.clients = static_cast<std::uint32_t>(s.integer("clients", p.clients, "Number of clients.", 1, 10'000'000));
  p.client_zipf = s.number("client_zipf", p.client_zipf,
                           "Zipf exponent of the clients' shares of the traffic (0 = equal).", Range::non_negative());
  p.process = parse_process(s, p.process, "each client's requests");
  p.templates = static_cast<std::uint32_t>(
      s.integer("templates", p.templates, "Prompt templates per client (shared prefixes).", 1, 1'000'000));
  if (std::uint64_t{p.templates} * p.clients > 100'000'000)
    s.fail("templates", "clients * templates must stay below 1e8");
  p.template_length = parse_length(s, "template", p.template_length, "template lengths (drawn once per template)",
                                   context.base_dir);
  p.template_zipf = s.number("template_zipf", p.template_zipf,
                             "Zipf exponent of a client's template popularity (0 = uniform).", Range::non_negative());
  p.system_prompts = static_cast<std::uint32_t>(s.integer(
      "system_prompts", p.system_prompts,
      "System prompts shared by all clients, placed before the client's template (0 = none).", 0, 1'000'000));
  p.system_prompt_length = parse_length(s, "system_prompt", p.system_prompt_length,
                                        "system prompt lengths (drawn once per prompt)", context.base_dir);
  p.system_prompt_zipf = s.number("system_prompt_zipf", p.system_prompt_zipf,
                                  "Zipf exponent of the system prompts' popularity (0 = uniform).",
                                  Range::non_negative());
  p.system_share = s.number("system_share", p.system_share,
                            "Probability that a client uses one of the shared system prompts.", Range::fraction());
  TypeSpec d;
  d.name = "api";
  d.message = LengthDist::lognormal(200, 1.0);
  d.output = LengthDist::lognormal(50, 1.0);
  p.types = parse_types(s, d, {.first_message = false, .think_time = false, .prompts = false}, context.base_dir);
  p.limits = parse_limits(s, {});
  return std::make_unique<ApiPopulation>(std::move(p), std::move(context));
}

}  // namespace kvsim::workload::mix
