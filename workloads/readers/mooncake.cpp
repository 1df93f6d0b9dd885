// Mooncake traces (Qin et al., "Mooncake: Trading More Storage for Less Computation",
// USENIX FAST'25; kvcache-ai/Mooncake, FAST25-release/traces/): one JSON object per line,
//   {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, ...]}
// timestamp in milliseconds; hash_ids are *prefix* hashes over 512-token blocks
// (ceil(input_length / 512) of them), used as identities as they are. All four keys are
// required; others are ignored. Requests are single-turn: ids in file order from 0, each
// its own session, category "mooncake".
//
// Writing: timestamps in ms (shortest exact decimal), hash_ids = the engine-block
// identities, which are prefix identities already; re-read with trace_block_size equal to
// the block size written.
#include <ostream>

#include "workloads/readers/format.hpp"
#include "workloads/readers/json_line.hpp"

namespace kvsim::workload {

namespace {

class MooncakeParser final : public FormatParser {
 public:
  bool header(std::string_view, long) override { return false; }

  void parse(std::string_view line, long number, TraceRecord& r) override {
    json_.parse(line, file, number);
    r.time = json_.number("timestamp") / 1000.0;
    r.input_tokens = token_count(json_.integer("input_length"), file, number, "input_length");
    r.output_tokens = token_count(json_.integer("output_length"), file, number, "output_length");
    r.type = "mooncake";
    const auto hashes = json_.unsigned_array("hash_ids");
    check_block_count(hashes.size(), r.input_tokens, trace_block_size, file, number, "hash_ids");
    r.blocks.assign(hashes.begin(), hashes.end());
  }

  std::string_view time_field() const override { return "timestamp"; }
  std::uint32_t default_block_size() const override { return 512; }

 private:
  JsonLine json_;
};

}  // namespace

bool detect_mooncake(std::string_view first_line) {
  JsonLine json;
  return json.try_parse(first_line) && json.has("timestamp") && json.has("hash_ids") && !json.has("chat_id");
}

std::unique_ptr<FormatParser> open_mooncake(const std::string&) { return std::make_unique<MooncakeParser>(); }

void write_mooncake(Source& source, std::ostream& out, std::uint32_t block_size) {
  std::string line;
  DenseBlockIds numbers;
  while (const auto q = source.next()) {
    line = "{\"timestamp\": " + format_double(q->arrival * 1000.0) +
           ", \"input_length\": " + std::to_string(q->input_tokens) +
           ", \"output_length\": " + std::to_string(q->output_tokens) + ", \"hash_ids\": [";
    numbers.append(line, blocks_for_writing(*q, block_size));
    line += "]}\n";
    out << line;
  }
}

}  // namespace kvsim::workload
