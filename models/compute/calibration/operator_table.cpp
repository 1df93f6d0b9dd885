#include "models/compute/calibration/operator_table.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "sim/util/error.hpp"
#include "sim/util/text.hpp"

namespace kvsim::compute {

const char* const kOperatorTableHeader =
    "gpu,operator,model,hidden,heads,kv_heads,head_dim,intermediate,vocab,tp,tokens,seqs,context,bytes,time_us,split";

namespace {

constexpr int kColumns = 16;

double number(std::string_view text, const std::string& source, long line, const char* column, bool positive) {
  double value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value) || value < 0 || (positive && value <= 0))
    throw InputError(source, line, column,
                     "expected a " + std::string(positive ? "positive" : "non-negative") + " number, got \"" +
                         std::string(text) + "\"");
  return value;
}

}  // namespace

std::vector<MeasuredKernel> parse_operator_table(const std::string& text, const std::string& source) {
  std::vector<MeasuredKernel> rows;
  std::istringstream in(text);
  std::string raw;
  long line = 0;
  bool header = false;
  while (std::getline(in, raw)) {
    ++line;
    const std::string_view s = strip_blanks(raw);
    if (s.empty() || s.front() == '#') continue;
    if (!header) {
      if (s != kOperatorTableHeader)
        throw InputError(source, line, "header",
                         "expected the kvsim operator-table header \"" + std::string(kOperatorTableHeader) + "\"");
      header = true;
      continue;
    }
    const auto f = split_csv(s);
    if (f.size() != kColumns)
      throw InputError(source, line, "", "expected " + std::to_string(kColumns) + " columns, got " + std::to_string(f.size()));
    MeasuredKernel row;
    row.line = line;
    row.gpu = std::string(f[0]);
    if (!parse_operator(f[1], row.shape.op)) {
      std::string known;
      for (auto name : operator_names()) known += (known.empty() ? "" : ", ") + std::string(name);
      throw InputError(source, line, "operator", "unknown operator \"" + std::string(f[1]) + "\"; known: " + known);
    }
    row.model = std::string(f[2]);
    auto& sh = row.shape;
    const bool geometry = sh.op != Operator::all_reduce && sh.op != Operator::cpu;
    sh.hidden = int(number(f[3], source, line, "hidden", geometry));
    sh.heads = int(number(f[4], source, line, "heads", geometry));
    sh.kv_heads = int(number(f[5], source, line, "kv_heads", geometry));
    sh.head_dim = int(number(f[6], source, line, "head_dim", geometry));
    const bool mlp = sh.op == Operator::up_proj || sh.op == Operator::down_proj || sh.op == Operator::act;
    sh.intermediate = int(number(f[7], source, line, "intermediate", mlp));
    sh.vocab = int(number(f[8], source, line, "vocab", false));
    sh.tp = int(number(f[9], source, line, "tp", true));
    sh.tokens = number(f[10], source, line, "tokens", false);
    sh.seqs = number(f[11], source, line, "seqs", false);
    sh.context = number(f[12], source, line, "context", false);
    sh.bytes = number(f[13], source, line, "bytes", sh.op == Operator::all_reduce);
    row.time = number(f[14], source, line, "time_us", true) * 1e-6;
    if (f[15] == "holdout") row.holdout = true;
    else if (f[15] != "train") throw InputError(source, line, "split", "expected train or holdout, got \"" + std::string(f[15]) + "\"");
    rows.push_back(std::move(row));
  }
  if (!header) throw InputError(source, 0, "header", "no kvsim operator-table header found");
  return rows;
}

std::vector<MeasuredKernel> read_operator_table(const std::string& path) {
  return parse_operator_table(read_text_file(path, "table"), path);
}

std::string format_operator_row(const MeasuredKernel& r, const double* predicted) {
  const auto& s = r.shape;
  auto num = [](double v) {
    std::ostringstream o;
    o.precision(12);
    o << v;
    return o.str();
  };
  std::string out = r.gpu + "," + std::string(operator_names()[std::size_t(s.op)]) + "," + r.model + "," +
                    std::to_string(s.hidden) + "," + std::to_string(s.heads) + "," + std::to_string(s.kv_heads) + "," +
                    std::to_string(s.head_dim) + "," + std::to_string(s.intermediate) + "," + std::to_string(s.vocab) +
                    "," + std::to_string(s.tp) + "," + num(s.tokens) + "," + num(s.seqs) + "," + num(s.context) + "," +
                    num(s.bytes) + "," + num(r.time * 1e6) + "," + (r.holdout ? "holdout" : "train");
  if (predicted) out += "," + num(*predicted * 1e6);
  return out;
}

}  // namespace kvsim::compute
