// Chat generator (model and block-identity scheme documented in chat.hpp).
//
// Random draws, in order, so streams stay reproducible when this file changes carefully:
//   construction: prompts stream -> content salt, then each prompt length by rank;
//                 arrivals stream -> first session start gap.
//   session start: arrivals -> next session start gap, number of turns (lognormal mode);
//                  sizes -> [empirical row], prompt rank (when prompts are used), message
//                  length, output length (lognormal mode);
//                  arrivals -> think time (when another turn follows).
//   follow-up:     sizes -> message length, output length; arrivals -> think time (when
//                  another turn follows and this one was issued).
#include "workloads/synth/chat.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"
#include "sim/util/text.hpp"

namespace kvsim::workload {

namespace {

// Upper bound on any token count parameter: keeps every sum of three of them inside
// uint32 and far beyond any real context window.
constexpr std::int64_t kMaxTokens = std::int64_t{1} << 30;

std::uint32_t clamp_tokens(double x, std::uint32_t max) {
  if (!(x >= 1.0)) return 1;  // also catches NaN
  if (x >= static_cast<double>(max)) return max;
  return std::clamp(static_cast<std::uint32_t>(std::llround(x)), std::uint32_t{1}, max);
}

std::uint32_t parse_count(std::string_view text, const std::string& path, long line, const std::string& column) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      value > std::numeric_limits<std::uint32_t>::max())
    throw InputError(path, line, column,
                     "expected a non-negative integer token count, got \"" + std::string(text) + "\"");
  return static_cast<std::uint32_t>(value);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> chat_params_problem(const ChatParams& p) {
  using Problem = std::pair<std::string, std::string>;
  if (p.num_requests == 0 && !(p.duration > 0.0))
    return Problem{"num_requests", "set num_requests > 0 or duration > 0, otherwise the workload never ends"};
  if (!(p.rate > 0.0) || !std::isfinite(p.rate)) return Problem{"rate", "expected a rate > 0 requests per second"};
  if (!(p.duration >= 0.0)) return Problem{"duration", "expected a duration >= 0 s"};
  if (!(p.turns_mean >= 1.0) || !std::isfinite(p.turns_mean)) return Problem{"turns_mean", "expected a mean >= 1"};
  if (!(p.think_time >= 0.0) || !std::isfinite(p.think_time))
    return Problem{"think_time", "expected a duration >= 0 s"};
  if (!(p.system_prompt_tokens >= 1.0)) return Problem{"system_prompt_tokens", "expected a median >= 1 token"};
  if (!(p.system_prompt_sigma >= 0.0)) return Problem{"system_prompt_sigma", "expected a sigma >= 0"};
  if (!(p.system_prompt_zipf >= 0.0) || !std::isfinite(p.system_prompt_zipf))
    return Problem{"system_prompt_zipf", "expected an exponent >= 0"};
  if (!(p.message_tokens >= 1.0)) return Problem{"message_tokens", "expected a median >= 1 token"};
  if (!(p.message_sigma >= 0.0)) return Problem{"message_sigma", "expected a sigma >= 0"};
  if (!(p.output_tokens >= 1.0)) return Problem{"output_tokens", "expected a median >= 1 token"};
  if (!(p.output_sigma >= 0.0)) return Problem{"output_sigma", "expected a sigma >= 0"};
  // A first turn needs at least one prompt token, one message token and one output token.
  if (p.max_input < 2 || p.max_input > kMaxTokens) return Problem{"max_input", "expected between 2 and 2^30 tokens"};
  if (p.max_output < 1 || p.max_output > kMaxTokens)
    return Problem{"max_output", "expected between 1 and 2^30 tokens"};
  if (p.max_context < 3 || p.max_context > kMaxTokens)
    return Problem{"max_context", "expected between 3 and 2^30 tokens"};
  if (p.lengths == LengthModel::empirical && p.lengths_file.empty())
    return Problem{"lengths_file", "lengths = \"empirical\" needs a CSV file of input/output token counts"};
  return std::nullopt;
}

ChatParams parse_chat_params(config::Section& s) {
  using config::Dimension;
  using config::Range;
  ChatParams p;
  const ChatParams d;
  p.rate = s.number("rate", d.rate,
                    "Mean request arrival rate over all turns, in requests per second (sessions start at "
                    "rate / turns_mean).",
                    Range::positive());
  p.num_requests = static_cast<std::uint64_t>(s.integer(
      "num_requests", static_cast<std::int64_t>(d.num_requests),
      "Stop after this many requests; 0 = no count limit (duration must then be set).", 0));
  p.duration = s.quantity("duration", Dimension::time, d.duration,
                          "Stop at the first arrival later than this; 0 = no time limit.");
  p.turns_mean = s.number("turns_mean", d.turns_mean,
                          "Mean number of turns per session (geometric on 1, 2, ...). Ignored when "
                          "lengths = \"empirical\" (single-turn requests).",
                          Range::at_least(1.0));
  p.think_time = s.quantity("think_time", Dimension::time, d.think_time,
                            "Mean time from a turn's arrival to the next turn's arrival (exponential; "
                            "open loop).");
  p.system_prompts = static_cast<std::uint32_t>(
      s.integer("system_prompts", d.system_prompts,
                "Number of distinct shared system prompts; 0 = sessions start with the user message.", 0,
                1'000'000));
  p.system_prompt_tokens = s.number("system_prompt_tokens", d.system_prompt_tokens,
                                    "Median system prompt length in tokens (log-normal, drawn once per prompt).",
                                    Range::at_least(1.0));
  p.system_prompt_sigma = s.number("system_prompt_sigma", d.system_prompt_sigma,
                                   "Log-normal sigma of system prompt lengths.", Range::non_negative());
  p.system_prompt_zipf = s.number("system_prompt_zipf", d.system_prompt_zipf,
                                  "Zipf exponent of system prompt popularity (0 = uniform).", Range::non_negative());
  p.message_tokens = s.number("message_tokens", d.message_tokens,
                              "Median length in tokens of each new user message (log-normal).", Range::at_least(1.0));
  p.message_sigma =
      s.number("message_sigma", d.message_sigma, "Log-normal sigma of user message lengths.", Range::non_negative());
  p.output_tokens = s.number("output_tokens", d.output_tokens, "Median output length in tokens (log-normal).",
                             Range::at_least(1.0));
  p.output_sigma =
      s.number("output_sigma", d.output_sigma, "Log-normal sigma of output lengths.", Range::non_negative());
  p.max_input = static_cast<std::uint32_t>(
      s.integer("max_input", d.max_input,
                "Largest input in tokens; messages are clamped to it and a later turn that would exceed it "
                "ends its session.",
                2, kMaxTokens));
  p.max_output = static_cast<std::uint32_t>(
      s.integer("max_output", d.max_output, "Largest output in tokens (outputs are clamped to it).", 1, kMaxTokens));
  p.max_context = static_cast<std::uint32_t>(
      s.integer("max_context", d.max_context,
                "Largest input + output of one turn; a later turn that would exceed it ends its session.", 3,
                kMaxTokens));
  static const std::vector<std::string> length_models{"lognormal", "empirical"};
  p.lengths = s.choice("lengths", "lognormal", length_models,
                       "Where lengths come from: log-normal medians/sigmas above, or (input, output) pairs drawn "
                       "uniformly from lengths_file as single-turn requests.") == "empirical"
                  ? LengthModel::empirical
                  : LengthModel::lognormal;
  p.lengths_file = s.text("lengths_file", "",
                          "CSV with columns input_tokens,output_tokens (or Azure's ContextTokens,GeneratedTokens) "
                          "for lengths = \"empirical\"; relative paths are resolved against the config's directory.");
  p.empirical_system_prompts =
      s.flag("empirical_system_prompts", d.empirical_system_prompts,
             "With lengths = \"empirical\": treat the first tokens of each input as one of the shared system "
             "prompts (the input length stays the table's).");
  if (auto problem = chat_params_problem(p)) s.fail(problem->first, problem->second);
  return p;
}

std::vector<LengthPair> read_length_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open the token length table");
  std::string line;
  if (!std::getline(in, line)) throw InputError(path, 1, "", "empty file; expected a CSV header");
  std::string_view header = line;
  if (header.starts_with("\xEF\xBB\xBF")) header.remove_prefix(3);  // UTF-8 byte order mark
  const auto names = split_csv(header);
  const auto column = [&](std::string_view name) -> std::ptrdiff_t {
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : it - names.begin();
  };
  std::string input_name = "input_tokens", output_name = "output_tokens";
  if (column(input_name) < 0 || column(output_name) < 0) {
    input_name = "ContextTokens";
    output_name = "GeneratedTokens";
  }
  const std::ptrdiff_t input_col = column(input_name), output_col = column(output_name);
  if (input_col < 0 || output_col < 0)
    throw InputError(path, 1, "header",
                     "expected columns input_tokens,output_tokens (or Azure's TIMESTAMP,ContextTokens,"
                     "GeneratedTokens), got \"" + std::string(strip_blanks(header)) + "\"");

  std::vector<LengthPair> rows;
  long line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (strip_blanks(line).empty()) continue;
    const auto fields = split_csv(line);
    const auto field = [&](std::ptrdiff_t col, const std::string& name) {
      if (col >= static_cast<std::ptrdiff_t>(fields.size()))
        throw InputError(path, line_no, name,
                         "expected " + std::to_string(names.size()) + " comma-separated fields as in the header, got " +
                             std::to_string(fields.size()));
      return parse_count(fields[col], path, line_no, name);
    };
    LengthPair row;
    row.input_tokens = field(input_col, input_name);
    row.output_tokens = field(output_col, output_name);
    rows.push_back(row);
  }
  if (rows.empty()) throw InputError(path, 0, "", "the token length table has a header but no rows");
  return rows;
}

std::vector<BlockId> segment_blocks(std::span<const ContentSegment> segments, std::uint32_t block_size) {
  if (block_size == 0) throw std::invalid_argument("segment_blocks: block_size must be > 0");
  std::uint64_t total = 0;
  for (const auto& seg : segments) total += seg.tokens;
  std::vector<BlockId> blocks;
  blocks.reserve((total + block_size - 1) / block_size);

  std::size_t si = 0;
  std::uint32_t offset = 0;  // within segments[si]
  BlockId prefix = 0;
  for (std::uint64_t start = 0; start < total; start += block_size) {
    std::uint64_t remaining = std::min<std::uint64_t>(block_size, total - start);
    // A block is named by the content pieces it covers, not by its position alone, so a
    // block that straddles two segments depends on both, and a partial block differs
    // from the full block that will later cover the same start.
    std::uint64_t h = 0x6b76'7369'6d2d'626bULL;
    while (remaining > 0) {
      while (segments[si].tokens == offset) {
        ++si;
        offset = 0;
      }
      const auto take = static_cast<std::uint32_t>(std::min<std::uint64_t>(remaining, segments[si].tokens - offset));
      h = mix64(h ^ segments[si].content);
      h = mix64(h ^ ((std::uint64_t{offset} << 32) | (offset + take)));
      offset += take;
      remaining -= take;
    }
    prefix = chain_block(prefix, h);
    blocks.push_back(prefix);
  }
  return blocks;
}

ChatGenerator::ChatGenerator(ChatParams params, Rng rng, std::uint32_t block_size, const std::string& base_dir)
    : params_(std::move(params)), block_size_(block_size) {
  if (auto problem = chat_params_problem(params_)) throw InputError("workload", 0, problem->first, problem->second);
  if (block_size_ == 0) throw std::invalid_argument("ChatGenerator: block_size must be > 0");

  // Separate streams so that, e.g., changing output lengths leaves arrival times as they
  // were (common random numbers across what-if runs).
  arrivals_ = Rng::stream(rng.next_u64(), "chat.arrivals");
  sizes_ = Rng::stream(rng.next_u64(), "chat.sizes");
  Rng prompts = Rng::stream(rng.next_u64(), "chat.prompts");

  content_salt_ = prompts.next_u64();
  if (params_.system_prompts > 0) {
    // Leave room for at least one message token in the input and one output token.
    const std::uint32_t cap = std::min(params_.max_input, params_.max_context - 1) - 1;
    prompt_lengths_.reserve(params_.system_prompts);
    for (std::uint32_t i = 0; i < params_.system_prompts; ++i)
      prompt_lengths_.push_back(
          clamp_tokens(prompts.lognormal(std::log(params_.system_prompt_tokens), params_.system_prompt_sigma), cap));
    prompt_popularity_.emplace(params_.system_prompts, params_.system_prompt_zipf);
  }
  if (params_.lengths == LengthModel::empirical) {
    std::filesystem::path file(params_.lengths_file);
    if (file.is_relative() && !base_dir.empty()) file = std::filesystem::path(base_dir) / file;
    table_.emplace(read_length_table(file.string()));
  }

  next_start_ = arrivals_.exponential(params_.lengths == LengthModel::empirical ? params_.rate
                                                                                 : params_.rate / params_.turns_mean);
}

const std::vector<std::string>& ChatGenerator::categories() const {
  static const std::vector<std::string> names{"chat"};
  return names;
}

std::uint32_t ChatGenerator::draw_tokens(double median, double sigma, std::uint32_t max) {
  return clamp_tokens(sizes_.lognormal(std::log(median), sigma), max);
}

std::optional<Request> ChatGenerator::next() {
  while (!done_) {
    if (params_.num_requests > 0 && next_request_ >= params_.num_requests) break;
    // Pending sessions all have smaller ids than the next one to start, so on equal
    // times the follow-up goes first, as the (time, session id) order demands.
    const bool follow = !pending_.empty() && pending_.front().time <= next_start_;
    const double time = follow ? pending_.front().time : next_start_;
    if (params_.duration > 0.0 && time > params_.duration) break;
    if (!follow) return start_session(time);
    std::pop_heap(pending_.begin(), pending_.end(), later);
    Session session = std::move(pending_.back().session);
    pending_.pop_back();
    if (auto request = follow_up(std::move(session), time)) return request;
  }
  done_ = true;
  pending_.clear();
  pending_.shrink_to_fit();
  return std::nullopt;
}

Request ChatGenerator::start_session(double time) {
  const bool empirical = params_.lengths == LengthModel::empirical;
  Session session;
  session.id = next_session_++;
  next_start_ = time + arrivals_.exponential(empirical ? params_.rate : params_.rate / params_.turns_mean);
  if (!empirical) {
    session.turns = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(arrivals_.geometric(params_.turns_mean), std::numeric_limits<std::uint32_t>::max()));
  }

  const std::uint32_t cap_in = std::min(params_.max_input, params_.max_context - 1);
  std::uint32_t input = 0, output = 0, prompt = 0;
  std::size_t rank = 0;
  if (empirical) {
    const LengthPair& row = table_->sample(sizes_);
    input = clamp_tokens(row.input_tokens, cap_in);
    output = std::min(clamp_tokens(row.output_tokens, params_.max_output), params_.max_context - input);
    if (params_.empirical_system_prompts && prompt_popularity_) {
      rank = prompt_popularity_->sample(sizes_);
      prompt = std::min(prompt_lengths_[rank], input - 1);
    }
  } else {
    if (prompt_popularity_) {
      rank = prompt_popularity_->sample(sizes_);
      prompt = prompt_lengths_[rank];  // <= cap_in - 1 by construction
    }
    const std::uint32_t message =
        std::min(draw_tokens(params_.message_tokens, params_.message_sigma, params_.max_input), cap_in - prompt);
    input = prompt + message;
    output = std::min(draw_tokens(params_.output_tokens, params_.output_sigma, params_.max_output),
                      params_.max_context - input);
  }
  if (prompt > 0) session.segments.push_back({prompt_content(rank), prompt});
  session.segments.push_back({fresh_content(), input - prompt});

  Request request = make_request(session, time, input, output);
  continue_session(std::move(session), request);
  return request;
}

std::optional<Request> ChatGenerator::follow_up(Session session, double time) {
  const std::uint32_t message = draw_tokens(params_.message_tokens, params_.message_sigma, params_.max_input);
  const std::uint32_t output = draw_tokens(params_.output_tokens, params_.output_sigma, params_.max_output);
  const std::uint64_t input = session.context + message;
  if (input > params_.max_input || input + output > params_.max_context) return std::nullopt;  // session ends
  session.segments.push_back({fresh_content(), message});
  Request request = make_request(session, time, static_cast<std::uint32_t>(input), output);
  continue_session(std::move(session), request);
  return request;
}

Request ChatGenerator::make_request(const Session& session, double time, std::uint32_t input,
                                    std::uint32_t output) {
  Request r;
  r.id = next_request_++;
  r.session = session.id;
  r.parent = session.turn == 0 ? -1 : static_cast<std::int64_t>(session.last_request);
  r.turn = session.turn + 1;
  r.category = 0;
  r.arrival = time;
  r.input_tokens = input;
  r.output_tokens = output;
  r.blocks = segment_blocks(session.segments, block_size_);
  return r;
}

bool ChatGenerator::later(const Pending& a, const Pending& b) {
  return a.time != b.time ? a.time > b.time : a.session.id > b.session.id;
}

void ChatGenerator::continue_session(Session session, const Request& issued) {
  session.turn = issued.turn;
  session.last_request = issued.id;
  if (session.turn >= session.turns) return;  // the session is complete
  session.context = std::uint64_t{issued.input_tokens} + issued.output_tokens;
  session.segments.push_back({fresh_content(), issued.output_tokens});
  const double think = params_.think_time > 0.0 ? arrivals_.exponential(1.0 / params_.think_time) : 0.0;
  pending_.push_back({issued.arrival + think, std::move(session)});
  std::push_heap(pending_.begin(), pending_.end(), later);
}

}  // namespace kvsim::workload
