// BurstGPT traces (Wang et al., "BurstGPT: A Real-world Workload Dataset to Optimize LLM
// Serving Systems", KDD'25; Azure OpenAI GPT service logs): CSV with the header
//   Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type[,Session ID]
// (column order free; others ignored). Timestamp in seconds; Model ("ChatGPT", "GPT-4")
// is the category. A row with 0 response tokens is a failed request: counted
// (report() "failed_requests"), not replayed. No hashes (every block unique). Ids in file
// order from 0. With a Session ID column, the requests of one session form a chain in file
// order (parent = the session's previous request, turn = its rank, session = the id of its
// first request); without it each request is its own session.
#include "sim/util/error.hpp"
#include "workloads/readers/format.hpp"

namespace kvsim::workload {

namespace {

class BurstGptParser final : public FormatParser {
 public:
  bool header(std::string_view line, long number) override {
    const auto names = split_csv(line);
    constexpr std::string_view expected = "Timestamp,Model,Request tokens,Response tokens,...";
    time_ = required_csv_column(names, "Timestamp", file, number, expected);
    model_ = required_csv_column(names, "Model", file, number, expected);
    input_ = required_csv_column(names, "Request tokens", file, number, expected);
    output_ = required_csv_column(names, "Response tokens", file, number, expected);
    session_ = csv_column(names, "Session ID");
    columns_ = names.size();
    return true;
  }

  void parse(std::string_view line, long number, TraceRecord& r) override {
    const auto cells = split_csv_row(line, columns_, file, number);
    auto cell = [&](int column) { return cells[std::size_t(column)]; };
    r.time = csv_number(cell(time_), file, number, "Timestamp");
    r.type = std::string(cell(model_));
    if (r.type.empty()) throw InputError(file, number, "Model", "expected a model name");
    r.input_tokens =
        token_count(csv_integer(cell(input_), file, number, "Request tokens"), file, number, "Request tokens");
    r.output_tokens =
        token_count(csv_integer(cell(output_), file, number, "Response tokens"), file, number, "Response tokens");
    r.failed = r.output_tokens == 0;
    if (session_ >= 0) r.session_key = std::string(cell(session_));
  }

  std::string_view time_field() const override { return "Timestamp"; }
  bool records_failures() const override { return true; }

 private:
  int time_ = 0, model_ = 1, input_ = 2, output_ = 3, session_ = -1;
  std::size_t columns_ = 6;
};

}  // namespace

bool detect_burstgpt(std::string_view first_line) {
  return csv_header_has(first_line, {"Timestamp", "Request tokens", "Response tokens"});
}

std::unique_ptr<FormatParser> open_burstgpt(const std::string&) { return std::make_unique<BurstGptParser>(); }

}  // namespace kvsim::workload
