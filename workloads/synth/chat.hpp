// Synthetic multi-turn chat traffic with shared system prompts: an open-loop generator whose
// requests carry chained prefix block identities, so KV-cache reuse arises from the same
// structure as in production chat services (shared system prompts across sessions; each
// turn's input extends the previous turn's input and output), as characterised by the
// Alibaba Bailian trace study (ATC'25) and Mooncake (FAST'25).
//
// Model (all times in seconds, all lengths in tokens):
//   * Sessions start as a Poisson process of rate `rate / turns_mean`; a session has
//     Geometric(turns_mean) turns (>= 1), so requests arrive at about `rate` per second once
//     follow-ups have ramped up (the first ~think_time * turns_mean seconds are lighter).
//   * Turn k+1 arrives Exp(mean think_time) after turn k's arrival (open loop: it does not
//     wait for turn k to finish).
//   * `system_prompts` shared prompts have log-normal lengths (median system_prompt_tokens,
//     sigma system_prompt_sigma) drawn once; a session picks one with Zipf(system_prompt_zipf)
//     popularity, rank 0 most popular. system_prompts = 0 disables them.
//   * Turn 1 input = prompt + message; turn k+1 input = turn k input + turn k output +
//     message. Message and output lengths are log-normal (median, sigma), clamped to
//     [1, max_input] and [1, max_output]. Turn 1 is truncated to fit (message, then output);
//     a later turn whose input would exceed max_input, or whose input + output would exceed
//     max_context, is not issued and its session ends.
//   * lengths = "empirical": every request is a single-turn session (rate `rate`) whose
//     (input, output) pair is drawn uniformly from a CSV table (see read_length_table),
//     clamped as above. With empirical_system_prompts = true and system_prompts > 0, the
//     first tokens of each input are a shared system prompt (truncated to input - 1 tokens
//     when the input is shorter); the input length stays the table's.
//
// Block identities: an input is a list of segments (content id, token count), e.g.
// [prompt][message 1][output 1][message 2]. Block i's content hash covers the
// (segment id, offset range) pieces of its tokens, and identities are chained with
// chain_block. Hence two inputs share block i exactly when their first (i+1)*block_size
// tokens are the same content: sessions with the same prompt share the full blocks lying
// inside it, turn k+1 shares every full block of turn k's input, and a partial last block
// never matches the full block that later covers the same start.
//
// Tie-break: requests with equal arrival times come out by session id (a follow-up turn
// therefore precedes a session starting at the same instant).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/util/random.hpp"
#include "workloads/request.hpp"

namespace kvsim::config {
class Section;
}

namespace kvsim::workload {

enum class LengthModel { lognormal, empirical };

struct ChatParams {
  double rate = 8.0;                 // requests per second (all turns together)
  std::uint64_t num_requests = 3000; // stop after this many requests; 0 = no count limit
  double duration = 0.0;             // s; stop at the first arrival after it; 0 = no limit
  double turns_mean = 3.0;           // mean turns per session (geometric, >= 1)
  double think_time = 30.0;          // s, mean gap between a turn's arrival and the next

  std::uint32_t system_prompts = 20;    // number of distinct shared prompts; 0 = none
  double system_prompt_tokens = 800.0;  // median prompt length
  double system_prompt_sigma = 0.5;     // log-normal sigma of prompt lengths
  double system_prompt_zipf = 1.1;      // popularity exponent over prompts

  double message_tokens = 150.0;  // median new user message length
  double message_sigma = 1.0;
  double output_tokens = 200.0;   // median output length
  double output_sigma = 0.8;

  std::uint32_t max_input = 16384;
  std::uint32_t max_output = 4096;
  std::uint32_t max_context = 32768;  // input + output of one turn

  LengthModel lengths = LengthModel::lognormal;
  std::string lengths_file;               // CSV for lengths = "empirical"
  bool empirical_system_prompts = false;  // shared prompts prefixed in empirical mode
};

// The first problem found in params as (key, message), or nullopt when they are usable.
// parse_chat_params reports it at the key's place in the config; ChatGenerator throws it.
std::optional<std::pair<std::string, std::string>> chat_params_problem(const ChatParams& params);

// Reads every ChatParams field from section (with defaults, bounds and help for
// `kvsim describe`). The caller calls section.finish() afterwards.
ChatParams parse_chat_params(config::Section& section);

struct LengthPair {
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  bool operator==(const LengthPair&) const = default;
};

// Reads a CSV of token lengths. The header names the columns: either input_tokens and
// output_tokens, or Azure's ContextTokens and GeneratedTokens (Azure Public Dataset, LLM
// inference trace 2023); other columns are ignored. Blank lines are skipped; CRLF is
// accepted. A missing column or a value that is not a non-negative integer is an
// InputError naming the file, line and column.
std::vector<LengthPair> read_length_table(const std::string& path);

// A run of tokens with one content identity: equal ids mean equal tokens.
struct ContentSegment {
  std::uint64_t content = 0;
  std::uint32_t tokens = 0;
};

// Chained identities of the ceil(n / block_size) blocks of an input of n tokens made of
// segments in order (n = the sum of their token counts; empty segments are allowed).
// Public so tests and future generators share one content model.
std::vector<BlockId> segment_blocks(std::span<const ContentSegment> segments, std::uint32_t block_size);

class ChatGenerator : public Source {
 public:
  // rng: the generator's own stream (make_source derives it from (seed, "workload")).
  // base_dir: directory that a relative lengths_file is resolved against.
  ChatGenerator(ChatParams params, Rng rng, std::uint32_t block_size, const std::string& base_dir = "");

  std::optional<Request> next() override;
  std::uint64_t expected_count() const override { return params_.num_requests; }
  double progress(double now) const override {
    return params_.duration > 0 ? std::min(1.0, now / params_.duration) : -1.0;
  }
  const std::vector<std::string>& categories() const override;

  const ChatParams& params() const { return params_; }
  // Token length of each shared system prompt, by popularity rank.
  const std::vector<std::uint32_t>& system_prompt_lengths() const { return prompt_lengths_; }

 private:
  struct Session {
    std::uint64_t id = 0;
    std::uint32_t turns = 1;         // planned number of turns
    std::uint32_t turn = 0;          // turns issued so far
    std::uint64_t last_request = 0;  // id of the last issued turn
    std::uint64_t context = 0;       // last turn's input + output tokens
    std::vector<ContentSegment> segments;   // content of that context, in order
  };
  struct Pending {
    double time;
    Session session;
  };

  Request start_session(double time);
  std::optional<Request> follow_up(Session session, double time);
  Request make_request(const Session& session, double time, std::uint32_t input, std::uint32_t output);
  // Records the turn just issued; queues the session's next turn unless it was the last.
  void continue_session(Session session, const Request& issued);
  static bool later(const Pending& a, const Pending& b);  // heap order: (time, session id)
  std::uint64_t fresh_content() { return mix64(content_salt_ + 2 * next_content_++ + 1); }
  std::uint64_t prompt_content(std::size_t rank) const { return mix64(content_salt_ + 2 * rank); }
  std::uint32_t draw_tokens(double median, double sigma, std::uint32_t max);

  ChatParams params_;
  std::uint32_t block_size_;
  Rng arrivals_;  // session starts, turn counts, think times
  Rng sizes_;     // prompt choice, message and output lengths, empirical rows
  std::uint64_t content_salt_ = 0;
  std::vector<std::uint32_t> prompt_lengths_;
  std::optional<ZipfSampler> prompt_popularity_;
  std::optional<EmpiricalSampler<LengthPair>> table_;

  std::vector<Pending> pending_;  // min-heap on (time, session id)
  double next_start_ = 0.0;
  std::uint64_t next_session_ = 0;
  std::uint64_t next_request_ = 0;
  std::uint64_t next_content_ = 0;
  bool done_ = false;
};


}  // namespace kvsim::workload
