#include "models/compute/calibration/fit.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "models/compute/calibration/least_squares.hpp"

namespace kvsim::compute {

namespace {
using O = Operator;
const std::vector<O> kGemms{O::qkv_proj, O::o_proj, O::up_proj, O::down_proj};
const std::vector<O> kElementwise{O::rms_norm, O::rope, O::act, O::add, O::kv_write};
const std::vector<O> kRowwise{O::rms_norm, O::rope, O::act, O::kv_write};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double at = q * double(v.size() - 1);
  const auto lo = std::size_t(std::floor(at));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - double(lo));
}
}  // namespace

const std::vector<KnobSpec>& analytical_knobs() {
  using P = AnalyticalParams;
  auto with = [](std::vector<O> a, const std::vector<O>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  static const std::vector<KnobSpec> knobs{
      {"flops_efficiency", &P::flops_efficiency, 0.05, 1.0, false, kGemms},
      {"hbm_efficiency", &P::hbm_efficiency, 0.05, 1.0, false, kGemms},
      {"roofline_sharpness", &P::roofline_sharpness, 1.0, 64.0, false, with(kGemms, {O::attn_prefill})},
      {"gemm_floor", &P::gemm_floor, 1e-8, 1e-3, true, kGemms},
      {"elementwise_efficiency", &P::elementwise_efficiency, 0.02, 1.0, false, {O::add}},
      {"elementwise_floor", &P::elementwise_floor, 1e-8, 1e-3, true, kElementwise},
      {"rowwise_efficiency", &P::rowwise_efficiency, 0.02, 1.0, false, kRowwise},
      {"rowwise_tokens_per_sm", &P::rowwise_tokens_per_sm, 1e-3, 1e3, false, kRowwise},
      {"rowwise_occupancy_sharpness", &P::rowwise_occupancy_sharpness, 0.1, 64.0, false, kRowwise},
      {"attention_prefill_efficiency", &P::attention_prefill_efficiency, 0.01, 1.0, false, {O::attn_prefill}},
      {"attention_prefill_half_keys", &P::attention_prefill_half_keys, 1e-3, 1e5, false, {O::attn_prefill}},
      {"attention_prefill_floor", &P::attention_prefill_floor, 1e-8, 1e-3, true, {O::attn_prefill}},
      {"attention_decode_efficiency", &P::attention_decode_efficiency, 0.01, 1.0, false, {O::attn_decode, O::attn_prefill}},
      {"attention_decode_floor", &P::attention_decode_floor, 1e-8, 1e-3, true, {O::attn_decode}},
      // The partition size is the kernel's (vLLM: 512 tokens), not fitted: only its product
      // with blocks_per_sm is visible in long-context rows.
      {"attention_decode_partition", &P::attention_decode_partition, 1.0, 1e6, false, {},
       "vLLM's paged-attention v2 partition size (PARTITION_SIZE, 512 tokens); not fitted, only its product "
       "with attention_decode_blocks_per_sm is identifiable"},
      {"attention_decode_blocks_per_sm", &P::attention_decode_blocks_per_sm, 1e-4, 1e3, false, {O::attn_decode}},
      {"attention_decode_occupancy_sharpness", &P::attention_decode_occupancy_sharpness, 0.1, 64.0, false, {O::attn_decode}},
      {"nvlink_efficiency", &P::nvlink_efficiency, 0.01, 1.0, false, {O::all_reduce}},
      {"allreduce_latency", &P::allreduce_latency, 1e-8, 1e-3, true, {O::all_reduce}},
      {"nvlink_bulk_efficiency", &P::nvlink_bulk_efficiency, 0.01, 1.0, false, {O::all_reduce}},
      {"allreduce_bulk_latency", &P::allreduce_bulk_latency, 1e-8, 1e-3, true, {O::all_reduce}},
      {"step_overhead", &P::step_overhead, 1e-7, 0.1, true, {O::cpu}},
      {"overhead_per_seq", &P::overhead_per_seq, 1e-9, 1e-2, true, {O::cpu}},
      // Per-token CPU time is not separable from per-sequence time in decode-only data.
      {"overhead_per_token", &P::overhead_per_token, 0.0, 1e-3, true, {},
       "the measured CPU times are decode steps (one token per sequence), where a per-token term cannot be "
       "told from overhead_per_seq; 0 leaves it all to overhead_per_seq"},
  };
  return knobs;
}

std::vector<OperatorError> operator_errors(const std::vector<MeasuredKernel>& rows, const GpuCard& gpu,
                                           const AnalyticalParams& params) {
  const KernelTimes kernels(gpu, params);
  std::map<std::size_t, std::vector<double>> errors;
  for (const auto& row : rows) errors[std::size_t(row.shape.op)].push_back(100.0 * (kernel_time(kernels, row.shape) / row.time - 1.0));
  std::vector<OperatorError> out;
  for (auto& [op, e] : errors) {
    OperatorError r;
    r.op = std::string(operator_names()[op]);
    r.rows = e.size();
    r.median_signed = percentile(e, 0.5);
    for (double& v : e) v = std::fabs(v);
    r.median_abs = percentile(e, 0.5);
    r.p90_abs = percentile(e, 0.9);
    out.push_back(r);
  }
  return out;
}

FitReport fit_analytical(const std::vector<MeasuredKernel>& rows, const GpuCard& gpu, const AnalyticalParams& start) {
  FitReport report;
  std::vector<MeasuredKernel> train, holdout;
  for (const auto& row : rows) (row.holdout ? holdout : train).push_back(row);
  report.train_rows = train.size();
  report.holdout_rows = holdout.size();

  std::vector<bool> present(operator_names().size(), false);
  for (const auto& row : train) present[std::size_t(row.shape.op)] = true;
  std::vector<const KnobSpec*> free;
  for (const auto& knob : analytical_knobs()) {
    bool used = false;
    for (O op : knob.constrained_by) used = used || present[std::size_t(op)];
    (used ? report.fitted : report.kept).push_back(knob.name);
    if (used) free.push_back(&knob);
  }

  AnalyticalParams params = start;
  BoxProblem problem;
  std::vector<double> x0;
  for (const auto* knob : free) {
    problem.lower.push_back(std::log(knob->lower));
    problem.upper.push_back(std::log(knob->upper));
    x0.push_back(std::log(std::clamp(params.*(knob->member), knob->lower, knob->upper)));
  }
  auto apply = [&](const std::vector<double>& x) {
    AnalyticalParams p = start;
    for (std::size_t j = 0; j < free.size(); ++j) p.*(free[j]->member) = std::exp(x[j]);
    return p;
  };
  problem.residuals = [&](const std::vector<double>& x, std::vector<double>& r) {
    const KernelTimes kernels(gpu, apply(x));
    r.resize(train.size());
    for (std::size_t i = 0; i < train.size(); ++i) r[i] = std::log(kernel_time(kernels, train[i].shape) / train[i].time);
  };
  if (!free.empty() && !train.empty()) {
    const auto solution = solve_box_least_squares(problem, x0);
    params = apply(solution.x);
    report.iterations = solution.iterations;
    report.rms_log_error = std::sqrt(2.0 * solution.cost / double(train.size()));
  }
  report.params = params;
  report.train = operator_errors(train, gpu, params);
  report.holdout = operator_errors(holdout, gpu, params);
  return report;
}

}  // namespace kvsim::compute
