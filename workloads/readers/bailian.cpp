// Alibaba Bailian traces, "KVCache in the wild" (Wang et al., USENIX ATC'25), e.g.
// qwen_traceA_blksz_16.jsonl: one JSON object per line,
//   {"chat_id": 159, "parent_chat_id": 55, "timestamp": 61.114, "input_length": 521,
//    "output_length": 132, "type": "text", "turn": 2, "hash_ids": [1089, 1090, ...]}
// timestamp in seconds; type is text/search/image/file (to-C) or api/text (to-B); hash_ids
// holds one *per-block content hash* per 16-token block (ceil(input_length / 16) of them),
// so prefix identities are the hashes chained from the first block: P_k = chain_block(P_{k-1},
// h_k), P_{-1} = 0. Every key above is required; others are ignored.
//
// Requests keep the trace's chat_id as id (unique) and parent_chat_id as parent; the session
// is the chat_id at the root of the parent chain; a parent never read (outside the window)
// makes the request the root of its own session. Category = type, in first-seen order.
//
// Writing: each request's engine-block identities are written as hash_ids with the engine
// block size, i.e. the per-block hashes written are prefix identities themselves. Chaining
// them on read gives other numbers but the same equalities (equal prefixes stay equal, and
// only they), so a written file replays identically; re-read it with trace_block_size equal
// to the block size it was written with.
#include <ostream>

#include "workloads/readers/format.hpp"
#include "workloads/readers/json_line.hpp"

namespace kvsim::workload {

namespace {

class BailianParser final : public FormatParser {
 public:
  bool header(std::string_view, long) override { return false; }

  void parse(std::string_view line, long number, TraceRecord& r) override {
    json_.parse(line, file, number);
    r.id = json_.unsigned_integer("chat_id");
    r.parent = json_.integer("parent_chat_id");
    if (r.parent < -1) json_.fail("parent_chat_id", "expected -1 (first turn) or a chat_id");
    r.time = json_.number("timestamp");
    r.input_tokens = token_count(json_.integer("input_length"), file, number, "input_length");
    r.output_tokens = token_count(json_.integer("output_length"), file, number, "output_length");
    r.type = json_.string("type");
    const std::uint64_t turn = json_.unsigned_integer("turn");
    if (turn > 0xffffffffULL) json_.fail("turn", "turn number beyond 2^32-1");
    r.turn = static_cast<std::uint32_t>(turn);
    const auto hashes = json_.unsigned_array("hash_ids");
    check_block_count(hashes.size(), r.input_tokens, trace_block_size, file, number, "hash_ids");
    r.blocks.reserve(hashes.size());
    BlockId prefix = 0;
    for (const auto h : hashes) r.blocks.push_back(prefix = chain_block(prefix, h));
  }

  std::string_view time_field() const override { return "timestamp"; }
  std::string_view id_field() const override { return "chat_id"; }
  std::uint32_t default_block_size() const override { return 16; }

 private:
  JsonLine json_;
};

}  // namespace

bool detect_bailian(std::string_view first_line) {
  JsonLine json;
  return json.try_parse(first_line) && json.has("chat_id") && json.has("hash_ids");
}

std::unique_ptr<FormatParser> open_bailian(const std::string&) { return std::make_unique<BailianParser>(); }

void write_bailian(Source& source, std::ostream& out, std::uint32_t block_size) {
  const auto& categories = source.categories();
  std::string line;
  DenseBlockIds numbers;
  while (const auto q = source.next()) {
    line = "{\"chat_id\": " + std::to_string(q->id) + ", \"parent_chat_id\": " + std::to_string(q->parent) +
           ", \"timestamp\": " + format_double(q->arrival) + ", \"input_length\": " + std::to_string(q->input_tokens) +
           ", \"output_length\": " + std::to_string(q->output_tokens) +
           ", \"type\": " + json_quote(q->category < categories.size() ? categories[q->category] : "default") +
           ", \"turn\": " + std::to_string(q->turn) + ", \"hash_ids\": [";
    numbers.append(line, blocks_for_writing(*q, block_size));
    line += "]}\n";
    out << line;
  }
}

}  // namespace kvsim::workload
