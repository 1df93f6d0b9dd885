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

// Achieved fraction of peak FLOP/s of a FlashAttention prefill call whose queries attend to
// `keys_per_query` keys on average (Σ pairs / Σ query tokens):
//   ceiling · K / (K + half_keys).
// Each query tile pays a fixed set-up (loading Q, the softmax rescale, writing O) and then
// loops over the key tiles; the longer that loop, the better the set-up is amortised, toward
// the ceiling of the inner loop. Equivalently the call costs the FLOP of half_keys extra keys
// per query at the ceiling rate. Measured (A100, Llama-2-70B, TP 2): 0.13 of peak for a
// 1,024-token prompt without cache (512 keys per query), 0.36 for 1,024 tokens after 3,072.
double prefill_attention_efficiency(double ceiling, double half_keys, double keys_per_query);

class KernelTimes {
 public:
  KernelTimes(const GpuCard& gpu, const AnalyticalParams& params);
  // out[tokens x k] · W[k x n]: 2·tokens·k·n FLOP, (k·n + tokens·(k + n))·dtype bytes.
  double gemm(double tokens, double k, double n, double dtype_bytes) const;
  // One elementwise kernel moving `bytes` through HBM.
  double elementwise(double bytes) const;
  // One prefill attention call: `flops` at the prefill efficiency for its mean number of keys
  // per query (prefill_attention_efficiency), `bytes` (K, V, Q and O) at the decode bandwidth.
  double attention_prefill(double flops, double bytes, double keys_per_query) const;
  // One decode attention call reading `bytes` of K and V: floor + the KV stream at
  // attention_decode_efficiency of HBM bandwidth.
  double attention_decode(double bytes) const;
  // One ring all-reduce of `bytes` among tp GPUs, by the faster of NCCL's low-latency and
  // bulk protocols.
  double all_reduce(double bytes, int tp) const;
  double cpu(double seqs, double tokens) const;

 private:
  AnalyticalParams p_;
  double gemm_flops_, gemm_bytes_, elementwise_bytes_, prefill_flops_, attention_bytes_, nvlink_bytes_,
      nvlink_bulk_bytes_;
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
