// Roofline step-time model: the time of one engine step (one forward pass over a batch),
// as a sum of per-operator rooflines, after Williams, Waterman & Patterson, "Roofline: an
// insightful visual performance model for multicore architectures" (CACM 2009), applied to
// transformer inference as in LLM-Viewer (Yuan et al., "LLM Inference Unveiled: Survey and
// Roofline Model Insights", 2024), with the per-operator decomposition of a step used by
// Vidur (Agrawal et al., MLSys 2024).
//
// Model
// -----
// An operator that performs F FLOP and moves B bytes between HBM and the SMs takes
//     t = max(F / (peak × e_compute), B / (bw × e_hbm))
// where peak is the GPU's dense BF16 FLOP/s (GpuCard::flops), bw its HBM bandwidth and the
// e_* are achieved fractions of those peaks (RooflineParams). One step is
//     linear + attention + kv_write + allreduce + lm_head + overhead
// with, for tensor-parallel degree tp (every per-GPU quantity divided by tp because heads,
// MLP columns and KV heads are split evenly across the GPUs of an instance):
//
//   linear     F = 2 · new_tokens · linear_params / tp           (one multiply-add = 2 FLOP)
//              B = linear_params · dtype_bytes / tp              (weights streamed once per step)
//              e_compute = flops_efficiency
//   lm_head    F = 2 · num_logits · hidden · vocab / tp
//              B = hidden · vocab · dtype_bytes / tp
//              e_compute = flops_efficiency
//   attention  F = 4 · attention_pairs · heads · head_dim · layers / tp
//                  (Q·Kᵀ and P·V, 2 FLOP per multiply-add each, per (query, key) pair)
//              B = context_tokens · kv_bytes_per_token / tp      (each sequence's KV read once)
//              e_compute = attention_efficiency
//   kv_write   B = new_tokens · kv_bytes_per_token / tp           (memory only)
//   allreduce  only when tp > 1. Megatron-LM TP (Shoeybi et al., 2019) needs 2 all-reduces
//              per layer, after the attention output projection and after the MLP down
//              projection, each of message M = new_tokens · hidden · dtype_bytes. A ring
//              all-reduce (Patarasuk & Yuan, JPDC 2009) moves 2·(tp−1)/tp · M bytes through
//              each GPU's links, so one call takes
//                  2·(tp−1)/tp · M / (nvlink_bandwidth × nvlink_efficiency) + allreduce_latency
//              and a step takes 2 · layers of them.
//   overhead   step_overhead (scheduling, sampling, kernel launches on the CPU side).
//
// Attention pairs for a sequence computing a chunk of c tokens after p tokens of context are
// c·p + c(c+1)/2 (causal mask), so prefill is quadratic and decode (c = 1) linear in context.
//
// What the model leaves out, on purpose: activations' HBM traffic (small next to weights
// and KV at serving batch sizes), overlap between operators (each is assumed to run alone,
// so the sum is an upper bound on a perfectly overlapped step), the all-gather of logits
// under TP, norms, rotary embeddings and sampling kernels (folded into step_overhead), and
// wave quantization of small GEMMs (folded into flops_efficiency). The LM head follows the
// formula even when num_logits is 0: serving engines (e.g. vLLM v1) run it for every
// scheduled sequence and discard partial-prefill samples, so its weights are streamed anyway.
//
// An empty batch costs nothing (all fields 0), matching PerfModel::step_time.
#include <memory>
#include <stdexcept>
#include <string>

#include "models/compute/perf_model.hpp"

namespace kvsim::compute {

void BatchShape::add(std::uint64_t prior_context, std::uint64_t chunk, bool samples_token) {
  num_seqs += 1u;
  num_logits += samples_token ? 1u : 0u;
  new_tokens += chunk;
  const double p = double(prior_context);
  const double c = double(chunk);
  attention_pairs += c * p + c * (c + 1.0) / 2.0;
  context_tokens += p + c;
}

// Valid only for an all-decode batch (new_tokens == num_seqs, one token per sequence): then
// each sequence's prior context grows by exactly one token per step, which adds one
// (query, key) pair and one KV token read per sequence. A batch with prefill chunks would
// need the chunk sizes, which the aggregate shape no longer holds.
void BatchShape::advance_decode() {
  attention_pairs += double(num_seqs);
  context_tokens += double(num_seqs);
}

namespace {

class Roofline final : public PerfModel {
 public:
  Roofline(const ModelCard& model, const GpuCard& gpu, int tp, const RooflineParams& params)
      : params_(params),
        tp_(tp),
        gemm_rate_(gpu.flops * params.flops_efficiency),
        attention_rate_(gpu.flops * params.attention_efficiency),
        hbm_rate_(gpu.hbm_bandwidth * params.hbm_efficiency),
        nvlink_rate_(gpu.nvlink_bandwidth * params.nvlink_efficiency),
        layers_(double(model.layers)),
        hidden_(double(model.hidden)),
        dtype_bytes_(double(model.dtype_bytes)),
        linear_params_(model.linear_params() / tp),
        lm_head_params_(model.lm_head_params() / tp),
        kv_bytes_per_token_(model.kv_bytes_per_token() / tp),
        attention_flops_per_pair_(4.0 * model.heads * model.head_dim * double(model.layers) / tp) {}

  StepBreakdown breakdown(const BatchShape& batch) const override {
    StepBreakdown out;
    if (batch.num_seqs == 0) return out;
    const double new_tokens = double(batch.new_tokens);

    out.linear = roof(2.0 * new_tokens * linear_params_, gemm_rate_,
                      linear_params_ * dtype_bytes_);
    out.lm_head = roof(2.0 * double(batch.num_logits) * lm_head_params_, gemm_rate_,
                       lm_head_params_ * dtype_bytes_);
    out.attention = roof(batch.attention_pairs * attention_flops_per_pair_, attention_rate_,
                         batch.context_tokens * kv_bytes_per_token_);
    out.kv_write = new_tokens * kv_bytes_per_token_ / hbm_rate_;
    if (tp_ > 1) {
      const double message = new_tokens * hidden_ * dtype_bytes_;
      const double ring_factor = 2.0 * (tp_ - 1) / tp_;
      const double per_call = ring_factor * message / nvlink_rate_ + params_.allreduce_latency;
      out.allreduce = 2.0 * layers_ * per_call;
    }
    out.overhead = params_.step_overhead;
    return out;
  }

 private:
  double roof(double flops, double flop_rate, double bytes) const {
    const double compute = flops / flop_rate;
    const double memory = bytes / hbm_rate_;
    return compute > memory ? compute : memory;
  }

  RooflineParams params_;
  int tp_;
  double gemm_rate_;       // achieved FLOP/s of GEMMs
  double attention_rate_;  // achieved FLOP/s of attention kernels
  double hbm_rate_;        // achieved HBM bytes/s
  double nvlink_rate_;     // achieved NVLink bytes/s per direction
  double layers_;
  double hidden_;
  double dtype_bytes_;
  // Per-GPU shares (already divided by tp).
  double linear_params_;
  double lm_head_params_;
  double kv_bytes_per_token_;
  double attention_flops_per_pair_;
};

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("roofline: " + message);
}

bool fraction(double x) { return x > 0.0 && x <= 1.0; }

}  // namespace

std::unique_ptr<PerfModel> make_roofline(const ModelCard& model, const GpuCard& gpu, int tp,
                                         const RooflineParams& params) {
  const std::string who = "model '" + model.name + "'";
  require(tp >= 1, "tensor-parallel degree must be at least 1, got " + std::to_string(tp));
  require(model.layers > 0 && model.hidden > 0 && model.heads > 0 && model.kv_heads > 0 &&
              model.head_dim > 0 && model.intermediate > 0 && model.vocab > 0 &&
              model.dtype_bytes > 0,
          who + " needs positive layers, hidden, heads, kv_heads, head_dim, intermediate, "
                "vocab and dtype_bytes");
  // Heads and KV heads are split across GPUs whole; engines reject uneven splits as well.
  require(model.heads % tp == 0, who + " has " + std::to_string(model.heads) +
                                     " attention heads, not divisible by tensor-parallel "
                                     "degree " + std::to_string(tp));
  require(model.kv_heads % tp == 0, who + " has " + std::to_string(model.kv_heads) +
                                        " KV heads, not divisible by tensor-parallel degree " +
                                        std::to_string(tp));
  require(gpu.flops > 0.0 && gpu.hbm_bandwidth > 0.0,
          "GPU '" + gpu.name + "' needs positive flops and hbm_bandwidth");
  require(tp == 1 || gpu.nvlink_bandwidth > 0.0,
          "GPU '" + gpu.name + "' has no NVLink bandwidth, needed for tensor parallelism");
  require(fraction(params.flops_efficiency) && fraction(params.attention_efficiency) &&
              fraction(params.hbm_efficiency) && fraction(params.nvlink_efficiency),
          "efficiencies must be in (0, 1]");
  require(params.allreduce_latency >= 0.0 && params.step_overhead >= 0.0,
          "allreduce_latency and step_overhead must not be negative");
  return std::make_unique<Roofline>(model, gpu, tp, params);
}

}  // namespace kvsim::compute
