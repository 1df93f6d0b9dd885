// Per-kernel time formulas of the analytical step-time model, shared by the step model
// (analytical.cpp, which sums them over a step) and by calibration (which compares them with
// measured kernels, one table row at a time). All times in seconds, one GPU.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "models/compute/perf_model.hpp"

namespace kvsim::compute {

// The operators of kvsim's measured-operator tables (models/compute/calibration/README.md).
enum class Operator {
  qkv_proj, o_proj, up_proj, down_proj,  // GEMMs of one layer
  rms_norm, rope, act, add,              // elementwise kernels of one layer
  attn_prefill, attn_decode,             // attention of one layer
  kv_write,                              // K/V store of one layer
  all_reduce,                            // one NCCL all-reduce
  cpu,                                   // CPU time of one engine step
};
const std::vector<std::string_view>& operator_names();  // indexed by Operator
bool parse_operator(std::string_view name, Operator& out);

// Smooth maximum of two non-negative times: (a^p + b^p)^(1/p); the hard max for p ≥ 64.
double smooth_max(double a, double b, double p);

class KernelTimes {
 public:
  KernelTimes(const GpuCard& gpu, const AnalyticalParams& params);
  // out[tokens x k] · W[k x n]: 2·tokens·k·n FLOP, (k·n + tokens·(k + n))·dtype bytes.
  double gemm(double tokens, double k, double n, double dtype_bytes) const;
  // One elementwise kernel moving `bytes` through HBM.
  double elementwise(double bytes) const;
  // One attention call: FLOP at the prefill or decode efficiency, KV bytes at the decode one.
  double attention_prefill(double flops, double bytes) const;
  double attention_decode(double flops, double bytes) const;
  // One ring all-reduce of `bytes` among tp GPUs.
  double all_reduce(double bytes, int tp) const;
  double cpu(double seqs, double tokens) const;

 private:
  AnalyticalParams p_;
  double gemm_flops_, gemm_bytes_, elementwise_bytes_, prefill_flops_, attention_bytes_, nvlink_bytes_;
};

// A measured kernel's shape: the model geometry (per card, before the TP split), TP degree and
// the row's tokens / sequences / context / message bytes (meaning per operator in the README).
struct OperatorShape {
  Operator op = Operator::qkv_proj;
  int hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0, vocab = 0;
  int dtype_bytes = 2;
  bool gated_mlp = true;
  int tp = 1;
  double tokens = 0, seqs = 0, context = 0, bytes = 0;
};
double kernel_time(const KernelTimes& kernels, const OperatorShape& shape);

// One layer's elementwise kernels over n tokens (2 RMSNorms, RoPE, activation, 2 adds), the
// same formulas as kernel_time's; widths per GPU.
double layer_elementwise(const KernelTimes& kernels, double n, double hidden, double qkv_width, double inner,
                         bool gated_mlp, double dtype_bytes);

}  // namespace kvsim::compute
