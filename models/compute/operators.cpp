// The kernel formulas of the analytical model (see analytical.cpp for the model as a whole).
#include "models/compute/operators.hpp"

#include <algorithm>
#include <cmath>

namespace kvsim::compute {

const std::vector<std::string_view>& operator_names() {
  static const std::vector<std::string_view> names{"qkv_proj", "o_proj",       "up_proj",     "down_proj", "rms_norm",
                                                   "rope",     "act",          "add",         "attn_prefill",
                                                   "attn_decode", "kv_write", "all_reduce", "cpu"};
  return names;
}

bool parse_operator(std::string_view name, Operator& out) {
  const auto& names = operator_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) {
      out = Operator(i);
      return true;
    }
  return false;
}

double smooth_max(double a, double b, double p) {
  const double m = std::max(a, b);
  if (p >= 64.0 || m <= 0.0) return m;
  const double lo = std::min(a, b) / m;
  return m * std::pow(1.0 + std::pow(lo, p), 1.0 / p);
}

KernelTimes::KernelTimes(const GpuCard& gpu, const AnalyticalParams& params)
    : p_(params),
      gemm_flops_(gpu.flops * params.flops_efficiency),
      gemm_bytes_(gpu.hbm_bandwidth * params.hbm_efficiency),
      elementwise_bytes_(gpu.hbm_bandwidth * params.elementwise_efficiency),
      rowwise_bytes_(gpu.hbm_bandwidth * params.rowwise_efficiency),
      prefill_flops_(gpu.flops * params.attention_prefill_efficiency),
      attention_bytes_(gpu.hbm_bandwidth * params.attention_decode_efficiency),
      nvlink_bytes_(gpu.nvlink_bandwidth * params.nvlink_efficiency),
      nvlink_bulk_bytes_(gpu.nvlink_bandwidth * params.nvlink_bulk_efficiency),
      sms_(double(gpu.sms)) {}

double KernelTimes::gemm(double tokens, double k, double n, double dtype_bytes) const {
  const double compute = 2.0 * tokens * k * n / gemm_flops_;
  const double memory = (k * n + tokens * (k + n)) * dtype_bytes / gemm_bytes_;
  return p_.gemm_floor + smooth_max(compute, memory, p_.roofline_sharpness);
}

double KernelTimes::elementwise(double bytes) const { return p_.elementwise_floor + bytes / elementwise_bytes_; }

double KernelTimes::rowwise(double tokens, double bytes_per_token) const {
  if (tokens <= 0.0) return p_.elementwise_floor;
  const double occupancy = grid_occupancy(tokens, sms_, p_.rowwise_tokens_per_sm, p_.rowwise_occupancy_sharpness);
  return p_.elementwise_floor + tokens * bytes_per_token / (rowwise_bytes_ * occupancy);
}

double prefill_attention_efficiency(double ceiling, double half_keys, double keys_per_query) {
  if (keys_per_query <= 0.0) return ceiling;
  return ceiling * keys_per_query / (keys_per_query + half_keys);
}

double KernelTimes::attention_prefill(double flops, double bytes, double keys_per_query) const {
  const double rate = prefill_flops_ * prefill_attention_efficiency(1.0, p_.attention_prefill_half_keys, keys_per_query);
  return p_.attention_prefill_floor + smooth_max(flops / rate, bytes / attention_bytes_, p_.roofline_sharpness);
}

double decode_attention_blocks(double kv_heads, double seqs, double context_tokens, double partition) {
  return kv_heads * std::max(seqs, context_tokens / partition);
}

double grid_occupancy(double blocks, double sms, double blocks_per_sm, double sharpness) {
  if (blocks_per_sm <= 0.0 || sms <= 0.0 || std::isinf(blocks)) return 1.0;
  const double x = blocks / (blocks_per_sm * sms);
  if (x <= 0.0) return 1.0;
  return x / std::pow(1.0 + std::pow(x, sharpness), 1.0 / sharpness);
}

double KernelTimes::decode_occupancy(double blocks) const {
  return grid_occupancy(blocks, sms_, p_.attention_decode_blocks_per_sm, p_.attention_decode_occupancy_sharpness);
}

double KernelTimes::attention_decode_at(double bytes, double occupancy) const {
  // Decode attention reads every cached K and V once for one query row: about 2·heads/kv_heads
  // FLOP per byte, far below any GPU's ridge point, so only the KV stream is timed.
  return p_.attention_decode_floor + bytes / (attention_bytes_ * occupancy);
}

double KernelTimes::all_reduce(double bytes, int tp) const {
  if (tp <= 1) return 0.0;
  const double moved = 2.0 * (tp - 1) / tp * bytes;
  // NCCL times each protocol and runs the fastest for the message size (its tuner, a
  // latency + size / bandwidth model per protocol): the low-latency protocols for small
  // messages, the bulk (Simple) protocol once its higher bandwidth repays its set-up.
  const double low_latency = p_.allreduce_latency + moved / nvlink_bytes_;
  const double bulk = p_.allreduce_bulk_latency + moved / nvlink_bulk_bytes_;
  return std::min(low_latency, bulk);
}

double KernelTimes::cpu(double seqs, double tokens) const {
  return p_.step_overhead + p_.overhead_per_seq * seqs + p_.overhead_per_token * tokens;
}

// Bytes per token each elementwise kernel reads and writes, in elements of the model's dtype,
// from what the kernel does (widths per GPU; h hidden, W = (H + KV)·d the Q and K width, I the
// MLP width):
//   RMSNorm        reads x and the weight row, writes y            3·h
//   residual add   reads two tensors, writes one                   3·h
//   SiLU-and-mul   reads gate and up, writes one (gated MLP)       3·I   (plain activation 2·I)
//   RoPE           reads and writes Q and K in place, reads the    2·W + d
//                  token's cos/sin row (rotary dimension d)
//   KV-cache write reads K and V, writes them into the cache       2·(2·KV·d)
// The residual add is PyTorch's vectorised kernel (KernelTimes::elementwise); the others are
// vLLM's one-block-per-token kernels (KernelTimes::rowwise).
namespace {
struct ElementwiseBytes {
  double norm, add, act, rope, kv_write;  // per token
};
ElementwiseBytes elementwise_bytes(double hidden, double qk_width, double head_dim, double kv_width, double inner,
                                   bool gated_mlp, double dt) {
  return {3.0 * hidden * dt, 3.0 * hidden * dt, (gated_mlp ? 3.0 : 2.0) * inner * dt,
          (2.0 * qk_width + head_dim) * dt, 2.0 * 2.0 * kv_width * dt};
}
}  // namespace

double kernel_time(const KernelTimes& k, const OperatorShape& s) {
  const double tp = s.tp, dt = s.dtype_bytes, n = s.tokens;
  const double q_width = double(s.heads) * s.head_dim / tp;
  const double kv_width = double(s.kv_heads) * s.head_dim / tp;
  const double inner = double(s.intermediate) / tp;
  const ElementwiseBytes b = elementwise_bytes(s.hidden, q_width + kv_width, s.head_dim, kv_width, inner, s.gated_mlp, dt);
  switch (s.op) {
    case Operator::qkv_proj: return k.gemm(n, s.hidden, q_width + 2.0 * kv_width, dt);
    case Operator::o_proj: return k.gemm(n, q_width, s.hidden, dt);
    case Operator::up_proj: return k.gemm(n, s.hidden, (s.gated_mlp ? 2.0 : 1.0) * inner, dt);
    case Operator::down_proj: return k.gemm(n, inner, s.hidden, dt);
    case Operator::rms_norm: return k.rowwise(n, b.norm);
    case Operator::rope: return k.rowwise(n, b.rope);
    case Operator::act: return k.rowwise(n, b.act);
    case Operator::add: return k.elementwise(n * b.add);
    case Operator::kv_write: return k.rowwise(n, b.kv_write);
    case Operator::attn_prefill: {
      // seqs sequences, each a chunk of `tokens` after `context` cached tokens (causal mask).
      const double c = n, p = s.context;
      const double pairs = s.seqs * (c * p + c * (c + 1.0) / 2.0);
      const double bytes = s.seqs * ((p + c) * 2.0 * kv_width + 2.0 * c * q_width) * dt;
      return k.attention_prefill(4.0 * pairs * q_width, bytes, s.seqs > 0 && c > 0 ? pairs / (s.seqs * c) : 0.0);
    }
    case Operator::attn_decode: {
      // seqs sequences of one query token each after `context` tokens.
      const double pairs = s.seqs * (s.context + 1.0);
      return k.attention_decode(pairs * 2.0 * kv_width * dt,
                                decode_attention_blocks(double(s.kv_heads) / tp, s.seqs, pairs, k.decode_partition()));
    }
    case Operator::all_reduce: return k.all_reduce(s.bytes, s.tp);
    case Operator::cpu: return k.cpu(s.seqs, n);
  }
  return 0.0;
}

double layer_elementwise(const KernelTimes& k, double n, double hidden, double qk_width, double head_dim, double inner,
                         bool gated_mlp, double dt) {
  const ElementwiseBytes b = elementwise_bytes(hidden, qk_width, head_dim, 0.0, inner, gated_mlp, dt);
  return 2.0 * k.rowwise(n, b.norm) + k.rowwise(n, b.rope) + k.rowwise(n, b.act) + 2.0 * k.elementwise(n * b.add);
}

double kv_write_time(const KernelTimes& k, double n, double kv_width, double dt) {
  return k.rowwise(n, elementwise_bytes(0.0, 0.0, 0.0, kv_width, 0.0, false, dt).kv_write);
}

}  // namespace kvsim::compute
