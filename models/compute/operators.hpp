// Per-kernel time formulas of the analytical step-time model, shared by the step model
// (analytical.cpp, which sums them over a step) and by calibration (which compares them with
// measured kernels, one table row at a time). All times in seconds, one GPU.
#pragma once

#include <limits>
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

// Thread blocks one decode attention call launches, as split-KV decode kernels do
// (FlashDecoding, Dao et al. 2023; vLLM's paged attention v2, 512-token partitions): one block
// per (sequence, KV head, KV partition of `partition` tokens), a sequence getting at least one
// partition. With only batch-level sums at hand this is
//   kv_heads · max(seqs, context_tokens / partition),
// exact when every sequence is on the same side of one partition (all shorter, or all at
// least as long), and a lower bound otherwise. kv_heads is per GPU (after the TP split).
double decode_attention_blocks(double kv_heads, double seqs, double context_tokens, double partition);

// Fraction of a memory-bound kernel's bandwidth reached with `blocks` thread blocks on a GPU
// of `sms` streaming multiprocessors (the decode attention kernel's KV stream; the row-wise
// elementwise kernels, one block per token). Memory-bound kernels hide HBM latency with many
// loads in flight (Little's law: bandwidth = bytes in flight / latency); a block keeps a
// bounded number of loads in flight, so few blocks leave the memory system idle, and the
// achieved bandwidth grows with the blocks until the SMs are full. With
//   x = blocks / (blocks_per_sm · sms):  occupancy = x / (1 + x^p)^(1/p),  p = sharpness,
// which is x for few blocks, tends to 1 for many, and is min(x, 1) for p → ∞. 1 (off) when
// blocks_per_sm or sms is 0.
double grid_occupancy(double blocks, double sms, double blocks_per_sm, double sharpness);

class KernelTimes {
 public:
  KernelTimes(const GpuCard& gpu, const AnalyticalParams& params);
  // out[tokens x k] · W[k x n]: 2·tokens·k·n FLOP, (k·n + tokens·(k + n))·dtype bytes.
  double gemm(double tokens, double k, double n, double dtype_bytes) const;
  // One vectorised elementwise kernel (PyTorch's residual add: its grid covers every element,
  // so it fills the GPU at any token count) moving `bytes` through HBM:
  //   elementwise_floor + bytes / (bw · elementwise_efficiency).
  double elementwise(double bytes) const;
  // One row-wise kernel over `tokens` tokens moving `bytes_per_token` each. vLLM's RMSNorm,
  // RoPE, SiLU-and-mul and KV-cache write launch one thread block per token, which loops over
  // the token's row; with fewer tokens than the GPU holds blocks, the SMs sit idle and the
  // kernel costs about one row's pass whatever the count (measured: SiLU-and-mul of
  // Llama-2-70B, 1 to 64 tokens, 22–24 µs on A100 at TP 1), with many it streams at
  // rowwise_efficiency of HBM bandwidth (scalar loads; below the vectorised add's):
  //   elementwise_floor + tokens · bytes_per_token / (bw · rowwise_efficiency · occupancy),
  //   occupancy = grid_occupancy(tokens, sms, rowwise_tokens_per_sm, rowwise_occupancy_sharpness).
  double rowwise(double tokens, double bytes_per_token) const;
  // One prefill attention call: `flops` at the prefill efficiency for its mean number of keys
  // per query (prefill_attention_efficiency), `bytes` (K, V, Q and O) at the decode bandwidth.
  double attention_prefill(double flops, double bytes, double keys_per_query) const;
  // One decode attention call reading `bytes` of K and V with `blocks` thread blocks
  // (decode_attention_blocks): floor + the KV stream at attention_decode_efficiency of HBM
  // bandwidth times the occupancy of those blocks. Without a block count, full occupancy.
  double attention_decode(double bytes, double blocks = std::numeric_limits<double>::infinity()) const {
    return attention_decode_at(bytes, decode_occupancy(blocks));
  }
  // The two halves of attention_decode, apart so that a caller can memoise the occupancy
  // (two pow() calls) by block count: grid_occupancy of `blocks` with the decode knobs, and
  // the call's time at a given occupancy.
  double decode_occupancy(double blocks) const;
  double attention_decode_at(double bytes, double occupancy) const;
  // One ring all-reduce of `bytes` among tp GPUs, by the faster of NCCL's low-latency and
  // bulk protocols.
  double all_reduce(double bytes, int tp) const;
  double cpu(double seqs, double tokens) const;
  double decode_partition() const { return p_.attention_decode_partition; }

 private:
  AnalyticalParams p_;
  double gemm_flops_, gemm_bytes_, elementwise_bytes_, rowwise_bytes_, prefill_flops_, attention_bytes_, nvlink_bytes_,
      nvlink_bulk_bytes_, sms_;
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
// same formulas as kernel_time's; widths per GPU (qk_width = (H + KV)·d).
double layer_elementwise(const KernelTimes& kernels, double n, double hidden, double qk_width, double head_dim,
                         double inner, bool gated_mlp, double dtype_bytes);
// One layer's KV-cache write of n tokens (kernel_time's kv_write); kv_width = KV·d per GPU.
double kv_write_time(const KernelTimes& kernels, double n, double kv_width, double dtype_bytes);

}  // namespace kvsim::compute
