#include "models/compute/calibration/vidur_import.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include "sim/util/error.hpp"
#include "sim/util/text.hpp"

namespace kvsim::compute {

namespace {

// Vidur's operator names (its mlp.csv columns time_stats.<name>.median) and kvsim's.
const std::vector<std::pair<std::string, Operator>> kMlpOps{
    {"attn_pre_proj", Operator::qkv_proj}, {"attn_post_proj", Operator::o_proj},  {"mlp_up_proj", Operator::up_proj},
    {"mlp_down_proj", Operator::down_proj}, {"input_layernorm", Operator::rms_norm}, {"attn_rope", Operator::rope},
    {"mlp_act", Operator::act},             {"add", Operator::add}};

class Columns {
 public:
  Columns(std::string_view header, const std::string& source) : source_(source) {
    const auto names = split_csv(header);
    for (std::size_t i = 0; i < names.size(); ++i) index_[std::string(strip_blanks(names[i]))] = i;
  }
  bool has(const std::string& name) const { return index_.count(name) > 0; }
  std::string_view text(const std::vector<std::string_view>& f, const std::string& name, long line) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw InputError(source_, 1, name, "missing column");
    if (it->second >= f.size()) throw InputError(source_, line, name, "row has too few columns");
    return strip_blanks(f[it->second]);
  }
  // NaN for an empty cell (Vidur leaves the other kind's columns empty).
  double number(const std::vector<std::string_view>& f, const std::string& name, long line) const {
    const auto t = text(f, name, line);
    if (t.empty()) return std::nan("");
    double v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size())
      throw InputError(source_, line, name, "expected a number, got \"" + std::string(t) + "\"");
    return v;
  }
  bool flag(const std::vector<std::string_view>& f, const std::string& name, long line) const {
    const auto t = text(f, name, line);
    if (t == "True" || t == "true" || t == "1") return true;
    if (t == "False" || t == "false" || t == "0") return false;
    throw InputError(source_, line, name, "expected True or False, got \"" + std::string(t) + "\"");
  }

 private:
  std::string source_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace

VidurImport import_vidur_csv(const std::string& text, const std::string& source, const std::string& gpu,
                             const std::string& model) {
  VidurImport out;
  std::istringstream in(text);
  std::string raw;
  if (!std::getline(in, raw)) throw InputError(source, 0, "", "empty file");
  const Columns cols(raw, source);
  if (cols.has("time_stats.attn_pre_proj.median")) out.kind = "mlp";
  else if (cols.has("time_stats.attn_prefill.median")) out.kind = "attention";
  else if (cols.has("time_stats.all_reduce.median")) out.kind = "all_reduce";
  else
    throw InputError(source, 1, "header",
                     "not a Vidur profile: expected time_stats.attn_pre_proj.median (mlp), "
                     "time_stats.attn_prefill.median (attention) or time_stats.all_reduce.median (all_reduce)");
  long line = 1;
  while (std::getline(in, raw)) {
    ++line;
    if (strip_blanks(raw).empty()) continue;
    const auto f = split_csv(raw);
    MeasuredKernel base;
    base.gpu = gpu;
    base.model = model;
    base.line = line;
    auto& s = base.shape;
    auto positive = [&](const std::string& name) {
      const double v = cols.number(f, name, line);
      if (!(v > 0)) throw InputError(source, line, name, "expected a positive number");
      return v;
    };
    auto emit = [&](Operator op, const std::string& column) {
      const double ms = cols.number(f, column, line);
      if (std::isnan(ms)) return;
      if (!(ms > 0)) throw InputError(source, line, column, "expected a positive time in ms");
      MeasuredKernel row = base;
      row.shape.op = op;
      row.time = ms * 1e-3;
      out.rows.push_back(row);
    };
    if (out.kind == "mlp") {
      s.hidden = int(positive("n_embd"));
      s.heads = int(positive("n_head"));
      s.kv_heads = int(positive("n_kv_head"));
      s.head_dim = s.hidden / s.heads;
      s.intermediate = int(positive("n_expanded_embd"));
      s.vocab = int(positive("vocab_size"));
      // kvsim's schema describes gated (SwiGLU) MLPs, the layout of every model kvsim ships.
      if (!cols.flag(f, "use_gated_mlp", line))
        throw InputError(source, line, "use_gated_mlp", "non-gated MLP profiles are not supported by kvsim's schema");
      s.tp = int(positive("num_tensor_parallel_workers"));
      s.tokens = positive("num_tokens");
      s.seqs = 1;
      for (const auto& [name, op] : kMlpOps) emit(op, "time_stats." + name + ".median");
    } else if (out.kind == "attention") {
      s.hidden = int(positive("n_embd"));
      s.heads = int(positive("n_q_head"));
      s.kv_heads = int(positive("n_kv_head"));
      s.head_dim = s.hidden / s.heads;
      s.tp = int(positive("num_tensor_parallel_workers"));
      s.seqs = positive("batch_size");
      s.context = cols.number(f, "kv_cache_size", line);
      if (cols.flag(f, "is_prefill", line)) {
        s.tokens = positive("prefill_chunk_size");
        emit(Operator::attn_prefill, "time_stats.attn_prefill.median");
      } else {
        s.tokens = s.seqs;
        emit(Operator::attn_decode, "time_stats.attn_decode.median");
      }
    } else {
      s.tp = int(positive("num_workers"));
      s.bytes = positive("size");
      // A collective spanning nodes runs over the NICs, another interconnect than NVLink.
      if (cols.has("devices_per_node") && cols.number(f, "devices_per_node", line) != double(s.tp)) {
        ++out.skipped;
        continue;
      }
      emit(Operator::all_reduce, "time_stats.all_reduce.median");
    }
  }
  return out;
}

}  // namespace kvsim::compute
