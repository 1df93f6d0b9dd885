// kvsim's own trace format: JSON lines that carry a Request exactly (documented in
// workloads/README.md). The first line is a header,
//   {"format": "kvsim", "version": 1, "block_size": 16, "categories": ["text", "api"]}
// then one object per request,
//   {"id": 0, "arrival": 0.125, "session": 0, "parent": -1, "turn": 1, "type": "text",
//    "input_tokens": 521, "output_tokens": 132, "priority": 0, "think_time": -1,
//    "blocks": [...]}
// arrival and think_time in seconds; blocks are prefix identities (unsigned 64-bit) over
// block_size-token blocks, ceil(input_tokens / block_size) of them, or absent/empty when
// every block is unique; priority (default 0) and think_time (default -1 = unknown) are
// optional, every other key is required. Numbers are written in the shortest form that
// reads back exactly, so writing then reading a source whose first arrival is 0 (any
// trace kvsim read) gives identical Requests.
#include <ostream>

#include "sim/util/error.hpp"
#include "workloads/readers/format.hpp"
#include "workloads/readers/json_line.hpp"

namespace kvsim::workload {

namespace {

constexpr std::int64_t kVersion = 1;

class KvsimParser final : public FormatParser {
 public:
  bool header(std::string_view line, long number) override {
    json_.parse(line, file, number);
    if (!json_.has("format") || json_.string("format") != "kvsim")
      json_.fail("format", "expected the header {\"format\": \"kvsim\", \"version\": 1, \"block_size\": N, "
                           "\"categories\": [...]} on the first line");
    if (json_.integer("version") != kVersion)
      json_.fail("version", "unsupported version (this kvsim reads version " + std::to_string(kVersion) + ")");
    const std::uint64_t block = json_.unsigned_integer("block_size");
    if (block == 0 || block > 0xffffffffULL) json_.fail("block_size", "expected a block size >= 1 token");
    block_size_ = static_cast<std::uint32_t>(block);
    categories_ = json_.string_array("categories");
    return true;
  }

  void parse(std::string_view line, long number, TraceRecord& r) override {
    json_.parse(line, file, number);
    r.id = json_.unsigned_integer("id");
    r.time = json_.number("arrival");
    r.session = json_.unsigned_integer("session");
    r.parent = json_.integer("parent");
    if (r.parent < -1) json_.fail("parent", "expected -1 (first turn) or a request id");
    const std::uint64_t turn = json_.unsigned_integer("turn");
    if (turn > 0xffffffffULL) json_.fail("turn", "turn number beyond 2^32-1");
    r.turn = static_cast<std::uint32_t>(turn);
    r.type = json_.string("type");
    r.input_tokens = token_count(json_.integer("input_tokens"), file, number, "input_tokens");
    r.output_tokens = token_count(json_.integer("output_tokens"), file, number, "output_tokens");
    if (json_.present("priority")) {
      const std::uint64_t priority = json_.unsigned_integer("priority");
      if (priority > 255) json_.fail("priority", "expected a service class between 0 and 255");
      r.priority = static_cast<std::uint8_t>(priority);
    }
    if (json_.present("think_time")) r.think_time = json_.number("think_time");
    if (json_.present("blocks")) {
      const auto blocks = json_.unsigned_array("blocks");
      if (!blocks.empty()) check_block_count(blocks.size(), r.input_tokens, trace_block_size, file, number, "blocks");
      r.blocks.assign(blocks.begin(), blocks.end());
    }
  }

  std::string_view time_field() const override { return "arrival"; }
  std::uint32_t default_block_size() const override { return block_size_; }
  std::vector<std::string> initial_categories() const override { return categories_; }

 private:
  JsonLine json_;
  std::uint32_t block_size_ = 16;
  std::vector<std::string> categories_;
};

}  // namespace

bool detect_kvsim(std::string_view first_line) {
  JsonLine json;
  if (!json.try_parse(first_line) || !json.has("format")) return false;
  try {
    return json.string("format") == "kvsim";
  } catch (const InputError&) {
    return false;
  }
}

std::unique_ptr<FormatParser> open_kvsim(const std::string&) { return std::make_unique<KvsimParser>(); }

void write_kvsim(Source& source, std::ostream& out, std::uint32_t block_size) {
  std::string line = "{\"format\": \"kvsim\", \"version\": " + std::to_string(kVersion) +
                     ", \"block_size\": " + std::to_string(block_size) + ", \"categories\": [";
  const auto& categories = source.categories();
  for (std::size_t i = 0; i < categories.size(); ++i) line += (i ? ", " : "") + json_quote(categories[i]);
  out << line << "]}\n";
  while (const auto q = source.next()) {
    line = "{\"id\": " + std::to_string(q->id) + ", \"arrival\": " + format_double(q->arrival) +
           ", \"session\": " + std::to_string(q->session) + ", \"parent\": " + std::to_string(q->parent) +
           ", \"turn\": " + std::to_string(q->turn) + ", \"type\": " +
           json_quote(q->category < categories.size() ? categories[q->category] : std::string("default")) +
           ", \"input_tokens\": " + std::to_string(q->input_tokens) +
           ", \"output_tokens\": " + std::to_string(q->output_tokens) +
           ", \"priority\": " + std::to_string(unsigned(q->priority)) +
           ", \"think_time\": " + format_double(q->think_time) + ", \"blocks\": [";
    // Empty stays empty (all unique) so the round trip is exact; others are checked (the
    // check returns a copy, which this hot loop can do without).
    if (!q->blocks.empty()) (void)check_block_count(*q, block_size);
    append_id_list(line, q->blocks);
    line += "]}\n";
    out << line;
  }
}

}  // namespace kvsim::workload
