// Session populations of the mix spec: kind = "chat" (multi-turn conversations, as the
// to-C trace of the Bailian study, ATC'25) and kind = "agent" (agentic tool-call loops:
// long growing contexts, many turns, gaps of seconds). Both are the same session model
// with different defaults, so they share this file.
//
// Model (times in s, lengths in tokens):
//   * Sessions start by the arrival process `process` (poisson | gamma | weibull | onoff,
//     cv) at session_rate * rate_scale per second, diurnally modulated.
//   * Each session has one type, drawn by weight; the type fixes its lengths, think times
//     and shared prompts.
//   * Turns per session: Geometric(turns_mean), or the table turn_weights
//     { "1" = w1, "2" = w2, ... } of session weights per turn count.
//   * Turn 1 input = a shared prompt of the type (Zipf popularity; none if prompts = 0)
//     + first_message; turn k+1 input = turn k input + turn k output + message, with
//     probability context_carry (per type, default 1); otherwise the history is dropped
//     and turn k+1 input = the shared prompt + message (a new topic in the same session,
//     or a chat front-end resetting a long history; later turns grow from it). The
//     next turn arrives think_time after this one's arrival (open loop) and carries the
//     drawn gap as its think_time. A turn that would exceed max_input or max_context is
//     not issued: the session ends at the previous turn.
//   * Block identities follow segment_blocks (workloads/synth/chat.hpp): a carrying turn
//     shares every full block of the previous input; a turn without the history shares
//     only its prompt's full blocks, as sessions of the same prompt do.
// Tie-break: equal arrival times come out by local session id.
//
// Random draws: "arrivals" stream: session starts, turn counts, think times; "sizes": type,
// prompt rank, lengths; "prompts": content salt, then prompt lengths type by type;
// "carry": the context_carry draws (only for 0 < context_carry < 1, so that the other
// streams, and a spec without the key, are unchanged).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "sim/config/reader.hpp"
#include "workloads/synth/mix/population.hpp"

namespace kvsim::workload::mix {

namespace {

struct SessionParams {
  double session_rate = 1.0;
  ProcessSpec process;
  double turns_mean = 2.0;
  std::vector<double> turn_weights;  // [n-1] = weight of sessions with n turns; empty = geometric
  std::vector<TypeSpec> types;
  LimitSpec limits;
};

class SessionPopulation final : public Population {
 public:
  SessionPopulation(SessionParams params, PopulationContext context)
      : p_(std::move(params)), block_size_(context.block_size), picker_(p_.types), pool_(0) {
    arrivals_ = Rng::stream(context.rng.next_u64(), "mix.sessions.arrivals");
    sizes_ = Rng::stream(context.rng.next_u64(), "mix.sessions.sizes");
    Rng prompts = Rng::stream(context.rng.next_u64(), "mix.sessions.prompts");
    pool_ = ContentPool(prompts.next_u64());
    carry_ = Rng::stream(context.rng.next_u64(), "mix.sessions.carry");
    for (const auto& t : p_.types) {
      type_names_.push_back(t.name);
      first_prompt_.push_back(pool_.add_prompts(t.prompts, t.prompt, prompts));
      popularity_.emplace_back(std::max<std::uint32_t>(t.prompts, 1), t.prompt_zipf);
    }
    if (!p_.turn_weights.empty()) {
      double total = 0;
      for (double w : p_.turn_weights) turn_cdf_.push_back(total += w);
      for (auto& c : turn_cdf_) c /= total;
      turn_cdf_.back() = 1.0;
    }
    clock_ = ArrivalClock(p_.process, p_.session_rate * context.rate_scale, context.diurnal);
    next_start_ = clock_.next(arrivals_);
  }

  const std::vector<std::string>& types() const override { return type_names_; }

  std::optional<Draft> next() override {
    while (true) {
      const bool follow = !pending_.empty() && pending_.front().time <= next_start_;
      if (!follow) return start_session();
      std::pop_heap(pending_.begin(), pending_.end(), later);
      Pending turn = std::move(pending_.back());
      pending_.pop_back();
      return issue(std::move(turn.session), turn.time, turn.think);
    }
  }

 private:
  struct Session {
    std::uint64_t id = 0;
    std::uint16_t type = 0;
    std::uint32_t turns = 1;   // planned
    std::uint32_t turn = 0;    // issued so far
    std::uint32_t input = 0;   // of the next turn to issue
    std::uint32_t output = 0;
    std::uint32_t prompt = 0;  // tokens of the shared prompt, segments[0] if has_prompt
    bool has_prompt = false;
    std::vector<ContentSegment> segments;  // content of the next turn's input
  };
  struct Pending {
    double time;
    double think;
    Session session;
  };
  static bool later(const Pending& a, const Pending& b) {
    return a.time != b.time ? a.time > b.time : a.session.id > b.session.id;
  }

  std::uint32_t cap_input() const { return std::min(p_.limits.max_input, p_.limits.max_context - 1); }

  std::uint32_t draw_turns() {
    if (turn_cdf_.empty())
      return static_cast<std::uint32_t>(
          std::min<std::uint64_t>(arrivals_.geometric(p_.turns_mean), std::numeric_limits<std::uint32_t>::max()));
    const double u = arrivals_.uniform01();
    return static_cast<std::uint32_t>(std::upper_bound(turn_cdf_.begin(), turn_cdf_.end(), u) - turn_cdf_.begin()) +
           1;
  }

  Draft start_session() {
    const double time = next_start_;
    next_start_ = clock_.next(arrivals_);
    Session s;
    s.id = next_session_++;
    s.turns = draw_turns();
    s.type = picker_.pick(sizes_);
    const TypeSpec& type = p_.types[s.type];
    std::uint32_t prompt = 0;
    if (type.prompts > 0) {
      const std::size_t index = first_prompt_[s.type] + popularity_[s.type].sample(sizes_);
      prompt = std::min(pool_.prompt_tokens(index), cap_input() - 1);
      s.segments.push_back({pool_.prompt_content(index), prompt});
      s.has_prompt = true;
    }
    s.prompt = prompt;
    const std::uint32_t message = std::min(type.first_message.draw(sizes_), cap_input() - prompt);
    s.segments.push_back({pool_.fresh(), message});
    s.input = prompt + message;
    s.output = std::min(std::min(type.output.draw(sizes_), p_.limits.max_output), p_.limits.max_context - s.input);
    return issue(std::move(s), time, -1.0);
  }

  // Issues the session's planned turn and plans the following one.
  Draft issue(Session s, double time, double think) {
    Draft d;
    Request& r = d.request;
    r.session = s.id;
    r.turn = ++s.turn;
    r.category = s.type;
    r.arrival = time;
    r.think_time = think;
    r.input_tokens = s.input;
    r.output_tokens = s.output;
    r.blocks = segment_blocks(s.segments, block_size_);
    if (s.turn < s.turns) {
      const TypeSpec& type = p_.types[s.type];
      const std::uint32_t message = type.message.draw(sizes_);
      const std::uint32_t output = std::min(type.output.draw(sizes_), p_.limits.max_output);
      const bool carry = carries(type.context_carry);
      const std::uint64_t input = (carry ? std::uint64_t{s.input} + s.output : s.prompt) + message;
      if (input <= p_.limits.max_input && input + output <= p_.limits.max_context) {
        const double gap = type.think_time.draw(arrivals_);
        if (carry)
          s.segments.push_back({pool_.fresh(), s.output});
        else
          s.segments.resize(s.has_prompt ? 1 : 0);
        s.segments.push_back({pool_.fresh(), message});
        s.input = static_cast<std::uint32_t>(input);
        s.output = output;
        d.continues = true;
        pending_.push_back({time + gap, gap, std::move(s)});
        std::push_heap(pending_.begin(), pending_.end(), later);
      }
    }
    return d;
  }

  // Whether a follow-up keeps the history; draws only when the answer is not certain.
  bool carries(double probability) {
    if (probability >= 1) return true;
    if (probability <= 0) return false;
    return carry_.uniform01() < probability;
  }

  SessionParams p_;
  std::uint32_t block_size_;
  TypePicker picker_;
  ContentPool pool_;
  Rng arrivals_, sizes_, carry_;
  ArrivalClock clock_;
  std::vector<std::string> type_names_;
  std::vector<std::size_t> first_prompt_;
  std::vector<ZipfSampler> popularity_;
  std::vector<double> turn_cdf_;
  std::vector<Pending> pending_;
  double next_start_ = 0;
  std::uint64_t next_session_ = 0;
};

std::vector<double> parse_turn_weights(config::Section& s) {
  std::vector<double> weights;
  const toml::node* node = s.raw("turn_weights");
  if (!node) return weights;
  if (!node->is_table()) s.fail("turn_weights", "expected a table of weights per turn count, e.g. { 1 = 0.6, 2 = 0.2 }");
  for (const auto& [key, value] : *node->as_table()) {
    const std::string_view k = key.str();
    std::uint32_t turns = 0;
    const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), turns);
    if (ec != std::errc() || end != k.data() + k.size() || turns == 0 || turns > 100000)
      s.fail("turn_weights", "expected turn counts from 1 to 100000 as keys, got \"" + std::string(k) + "\"");
    std::optional<double> w = value.value<double>();
    if (!w || !(*w >= 0) || !std::isfinite(*w))
      s.fail("turn_weights", "expected a weight >= 0 for " + std::string(k) + " turns");
    if (weights.size() < turns) weights.resize(turns, 0.0);
    weights[turns - 1] = *w;
  }
  double total = 0;
  for (double w : weights) total += w;
  if (!(total > 0)) s.fail("turn_weights", "expected at least one weight > 0");
  return weights;
}

}  // namespace

std::unique_ptr<Population> build_session_population(config::Section& s, PopulationContext context, bool agent) {
  using config::Range;
  SessionParams p;
  TypeSpec d;
  ProcessSpec process;
  if (agent) {
    // An agent loop: a long instruction + tool-definition prompt, short tool results and
    // tool calls, gaps of a few seconds (tool execution), tens of turns.
    d.name = "agent";
    d.message = LengthDist::lognormal(300, 1.0);
    d.first_message = LengthDist::lognormal(500, 1.0);
    d.output = LengthDist::lognormal(150, 0.8);
    d.think_time = {TimeDist::Model::uniform, 3, 1, 1, 5};
    d.prompts = 4;
    d.prompt = LengthDist::lognormal(4000, 0.3);
    p.turns_mean = 20;
    p.session_rate = 0.1;
  } else {
    d.name = "text";
    d.message = LengthDist::lognormal(150, 1.0);
    d.first_message = d.message;
    d.output = LengthDist::lognormal(300, 0.7);
    d.think_time.mean = 60;
    d.prompts = 20;
    d.prompt = LengthDist::lognormal(800, 0.5);
    d.prompt_zipf = 1.1;
    p.turns_mean = 2;
    p.session_rate = 2;
  }
  p.session_rate = s.number("session_rate", p.session_rate,
                            "Sessions started per second (before rate_scale and diurnal modulation).",
                            Range::positive());
  p.process = parse_process(s, process, "session starts");
  p.turns_mean = s.number("turns_mean", p.turns_mean,
                          "Mean turns per session (geometric on 1, 2, ...), unless turn_weights is given: a table "
                          "{ \"1\" = w1, \"2\" = w2, ... } of relative session counts per number of turns.",
                          Range::at_least(1.0));
  p.turn_weights = parse_turn_weights(s);
  p.types = parse_types(s, d, {.first_message = true, .think_time = true, .prompts = true, .context_carry = true}, context.base_dir);
  p.limits = parse_limits(s, {});
  return std::make_unique<SessionPopulation>(std::move(p), std::move(context));
}

}  // namespace kvsim::workload::mix
