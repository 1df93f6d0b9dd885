// Measured-profile step-time model (`compute.model = "profile"`), for users who profiled their
// own GPUs, the way Vidur (Agrawal et al., MLSys 2024) and its peers work: per-operator kernel
// times are read from tables in kvsim's measured-operator schema
// (`compute.profile_tables`, models/compute/calibration/README.md; `kvsim calibrate import`
// converts Vidur's), interpolated between measured points and summed over a step exactly as
// the analytical model sums its kernels (analytical.cpp).
//
// Rows used: those measured on the scenario's GPU card, at its tensor-parallel degree, and
// (GEMMs, elementwise, attention) for its model's geometry (hidden, heads, KV heads, head
// dimension; intermediate for the MLP operators). Each operator becomes a ProfileCurve of one
// coordinate: tokens (GEMMs, elementwise, KV write), (query, key) pairs of the call (attention;
// a decode's pairs are its KV tokens read), message bytes (all-reduce), sequences (CPU).
// Between measured points the time is interpolated linearly; outside them the nearest point
// is scaled by the analytical model's shape for that operator (with a warning on stderr, once
// per operator and run); an operator without any row is the analytical model's (the LM head
// always is: profiles do not measure it).
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "models/compute/calibration/operator_table.hpp"
#include "models/compute/operators.hpp"
#include "models/compute/perf_model.hpp"
#include "models/compute/profile_curve.hpp"

namespace kvsim::compute {

namespace {

class Profile final : public PerfModel {
 public:
  Profile(const ModelCard& model, const GpuCard& gpu, int tp, const ComputeSpec& spec)
      : analytical_(make_analytical(model, gpu, tp, spec.params)),
        kernels_(gpu, spec.params),
        tp_(tp),
        layers_(double(model.layers)),
        hidden_(double(model.hidden)),
        dtype_(double(model.dtype_bytes)),
        q_width_(double(model.heads) * model.head_dim / tp),
        kv_width_(double(model.kv_heads) * model.head_dim / tp) {
    base_.hidden = model.hidden;
    base_.heads = model.heads;
    base_.kv_heads = model.kv_heads;
    base_.head_dim = model.head_dim;
    base_.intermediate = model.intermediate;
    base_.vocab = model.vocab;
    base_.dtype_bytes = model.dtype_bytes;
    base_.gated_mlp = model.gated_mlp;
    base_.tp = tp;
    std::vector<std::vector<std::pair<double, double>>> points(operator_names().size());
    for (const auto& path : spec.profile_tables)
      for (const auto& row : read_operator_table(path)) {
        const auto& s = row.shape;
        if (row.gpu != gpu.name || s.tp != tp) continue;
        const bool geometric = s.op != Operator::all_reduce && s.op != Operator::cpu;
        const bool mlp = s.op == Operator::up_proj || s.op == Operator::down_proj || s.op == Operator::act;
        if (geometric && (s.hidden != model.hidden || s.heads != model.heads || s.kv_heads != model.kv_heads ||
                          s.head_dim != model.head_dim || (mlp && s.intermediate != model.intermediate)))
          continue;
        double x = s.tokens;
        if (s.op == Operator::attn_prefill) x = s.seqs * (s.tokens * s.context + s.tokens * (s.tokens + 1.0) / 2.0);
        if (s.op == Operator::attn_decode) x = s.seqs * (s.context + 1.0);
        if (s.op == Operator::all_reduce) x = s.bytes;
        if (s.op == Operator::cpu) x = s.seqs;
        points[std::size_t(s.op)].emplace_back(x, row.time);
      }
    for (std::size_t op = 0; op < points.size(); ++op) {
      if (points[op].empty()) {
        curves_.emplace_back(std::nullopt);
        continue;
      }
      const Operator which = Operator(op);
      curves_.emplace_back(ProfileCurve(std::move(points[op]), [this, which](double x) { return analytical(which, x); }));
    }
    warned_.assign(curves_.size(), false);
  }

  StepBreakdown breakdown(const BatchShape& batch) const override {
    StepBreakdown out;
    if (batch.num_seqs == 0) return out;
    const double n = double(batch.new_tokens);
    using O = Operator;
    out.linear = layers_ * (time(O::qkv_proj, n) + time(O::o_proj, n) + time(O::up_proj, n) + time(O::down_proj, n));
    out.elementwise =
        layers_ * (2.0 * time(O::rms_norm, n) + time(O::rope, n) + time(O::act, n) + 2.0 * time(O::add, n));
    out.kv_write = layers_ * time(O::kv_write, n);
    double attention = 0.0;
    if (batch.prefill_seqs() > 0) attention += time(O::attn_prefill, batch.prefill_pairs());
    if (batch.decode_seqs > 0) attention += time(O::attn_decode, batch.decode_context);
    out.attention = layers_ * attention;
    if (tp_ > 1) out.allreduce = 2.0 * layers_ * time(O::all_reduce, n * hidden_ * dtype_);
    const auto reference = analytical_->breakdown(batch);
    out.lm_head = reference.lm_head;
    out.overhead = time(O::cpu, double(batch.num_seqs));
    return out;
  }

 private:
  // The analytical model's time of one kernel at coordinate x (the profile's extrapolation shape).
  double analytical(Operator op, double x) const {
    switch (op) {
      // The coordinate alone does not fix the keys per query: the shape is taken at the
      // efficiency ceiling.
      case Operator::attn_prefill: return kernels_.attention_prefill(4.0 * x * q_width_, 0.0, 0.0);
      case Operator::attn_decode: return kernels_.attention_decode(x * 2.0 * kv_width_ * dtype_);
      case Operator::all_reduce: return kernels_.all_reduce(x, tp_ > 1 ? tp_ : 2);
      case Operator::cpu: return kernels_.cpu(x, x);
      default: {
        OperatorShape s = base_;
        s.op = op;
        s.tokens = x;
        s.seqs = 1;
        return kernel_time(kernels_, s);
      }
    }
  }

  double time(Operator op, double x) const {
    const auto& curve = curves_[std::size_t(op)];
    if (!curve) return analytical(op, x);
    if (!curve->inside(x) && !warned_[std::size_t(op)]) {
      warned_[std::size_t(op)] = true;
      std::cerr << "kvsim: warning: profile model: " << operator_names()[std::size_t(op)] << " at " << x
                << " is outside the measured range [" << curve->lowest() << ", " << curve->highest()
                << "]; extrapolating with the analytical model's shape (reported once)\n";
    }
    return curve->at(x);
  }

  std::unique_ptr<PerfModel> analytical_;
  KernelTimes kernels_;
  OperatorShape base_;
  int tp_;
  double layers_, hidden_, dtype_, q_width_, kv_width_;
  std::vector<std::optional<ProfileCurve>> curves_;
  mutable std::vector<bool> warned_;  // extrapolation reported, per operator
};

}  // namespace

std::unique_ptr<PerfModel> make_profile(const ModelCard& model, const GpuCard& gpu, int tp, const ComputeSpec& spec) {
  if (spec.profile_tables.empty())
    throw std::invalid_argument("profile step-time model: set compute.profile_tables to measured-operator CSV files");
  return std::make_unique<Profile>(model, gpu, tp, spec);
}

}  // namespace kvsim::compute
