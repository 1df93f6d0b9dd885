// Step-time models: how long one engine step (one forward pass over a batch) takes.
#pragma once

#include "sim/util/registry.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kvsim::compute {

// Published architecture numbers of a decoder-only transformer (models/compute/llm/*.toml).
struct ModelCard {
  std::string name;
  int layers = 0;
  int hidden = 0;             // model (embedding) dimension
  int heads = 0;              // attention (query) heads
  int kv_heads = 0;           // key/value heads (GQA)
  int head_dim = 0;
  int intermediate = 0;       // MLP inner dimension
  int vocab = 0;
  int dtype_bytes = 2;        // weights and KV cache element size
  bool gated_mlp = true;      // SwiGLU (three MLP matrices) vs. classic two-matrix MLP
  bool tied_embeddings = false;
  int max_context = 0;        // tokens

  // Parameters of the linear layers every token goes through: attention projections (Q, K,
  // V, O) and MLP of all layers. Excludes the LM head and the embedding table.
  double linear_params() const;
  // The LM head (hidden x vocab), applied only to positions that sample a token.
  double lm_head_params() const { return double(hidden) * vocab; }
  // All parameters: linear layers, LM head and embedding table (counted once when tied);
  // norms are ignored (under 0.01% of the weights).
  double total_params() const;
  double weight_bytes() const { return total_params() * dtype_bytes; }
  // Peak activation memory per GPU of one forward pass over `tokens` tokens of which
  // `sampled` produce logits, at tensor-parallel degree tp: what vLLM's memory profiling
  // run measures as the torch peak increase (see model_card.cpp).
  double peak_activation_bytes(int tp, std::uint64_t tokens, std::uint64_t sampled) const;
  // K and V of one token over all layers.
  double kv_bytes_per_token() const { return 2.0 * layers * kv_heads * head_dim * dtype_bytes; }
};

// Datasheet figures of one GPU (platforms/gpus/*.toml).
struct GpuCard {
  std::string name;
  double flops = 0;             // dense BF16 FLOP/s
  double hbm_bytes = 0;         // bytes
  double hbm_bandwidth = 0;     // bytes/s
  double nvlink_bandwidth = 0;  // bytes/s per direction, all links of the GPU together
  int pcie_generation = 0;
  double pcie_bandwidth = 0;    // bytes/s per direction, x16 nominal
  double tdp = 0;               // watts
  double idle_watts = 0;        // watts drawn with no kernel running (energy model)
  int sms = 0;                  // streaming multiprocessors (0 = unknown: decode attention occupancy off)
  std::string calibration;      // default calibration card of the step-time model ("" = none)
};

// Aggregate description of one step's batch. Every quantity the step-time models need is a
// sum over sequences, so a batch is described in O(1) space and a decode step of a fixed
// batch is advanced by adding constants (see advance_decode). Sums of whole token counts are
// integers held exactly in doubles (below 2^53), so the prefill part is the total minus the
// decode part without rounding.
struct BatchShape {
  std::uint32_t num_seqs = 0;          // sequences in the step
  std::uint32_t num_logits = 0;        // sequences that sample a token this step
  std::uint64_t new_tokens = 0;        // tokens computed (prefill chunk tokens + 1 per decode)
  double attention_pairs = 0;          // Σ (query, key) pairs: chunk c after context p → c·p + c(c+1)/2
  double context_tokens = 0;           // Σ tokens whose KV is read: p + c per sequence
  // Sequences computing one token run the decode attention kernel (as in vLLM, whose
  // FlashAttention backend treats one-token queries as decodes); their part of the sums:
  std::uint32_t decode_seqs = 0;
  double decode_context = 0;           // Σ (p + 1) over decode sequences (= their pairs)

  // Adds a sequence computing `chunk` new tokens after `prior_context` cached/computed ones.
  // samples_token: whether this step produces an output token for it (decode, or the last
  // chunk of a prefill).
  void add(std::uint64_t prior_context, std::uint64_t chunk, bool samples_token);
  // The same batch one decode step later: every sequence's context grew by one token.
  void advance_decode();

  std::uint32_t prefill_seqs() const { return num_seqs - decode_seqs; }
  double prefill_tokens() const { return double(new_tokens) - double(decode_seqs); }
  double prefill_pairs() const { return attention_pairs - decode_context; }
  double prefill_context() const { return context_tokens - decode_context; }
};

// Seconds per operator family over one step (all layers, one GPU of the instance).
struct StepBreakdown {
  double linear = 0;       // QKV, output, MLP GEMMs
  double elementwise = 0;  // RMSNorm x2, RoPE, activation, residual adds x2
  double attention = 0;    // prefill and decode attention kernels
  double kv_write = 0;     // writing the new tokens' K and V into the paged cache
  double allreduce = 0;    // tensor-parallel all-reduces (2 per layer)
  double lm_head = 0;      // logits of the sampling positions
  double overhead = 0;     // CPU: scheduling, input preparation, sampling, output processing
  double total() const { return linear + elementwise + attention + kv_write + allreduce + lm_head + overhead; }
  // The share of the step the GPUs run kernels, (total - CPU overhead) / total in [0, 1]; 0
  // for an empty step (the energy account's utilisation).
  double kernel_share() const {
    const double t = total();
    if (t <= 0) return 0.0;
    const double share = (t - overhead) / t;
    return share < 0 ? 0.0 : (share > 1 ? 1.0 : share);
  }
};

class PerfModel {
 public:
  virtual ~PerfModel() = default;
  virtual StepBreakdown breakdown(const BatchShape& batch) const = 0;
  // Seconds for one step; 0 for an empty batch.
  double step_time(const BatchShape& batch) const { return batch.num_seqs == 0 ? 0.0 : breakdown(batch).total(); }
};

// Knobs of the analytical model ([compute] in a scenario), each with a physical meaning and
// unit. The defaults below are only the fallback for a GPU card without a calibration card;
// the shipped cards (models/compute/calibration/*.toml) carry fitted values and provenance.
struct AnalyticalParams {
  double flops_efficiency = 0.75;            // GEMMs: achieved fraction of peak FLOP/s
  double hbm_efficiency = 0.8;               // GEMMs: achieved fraction of HBM bandwidth (weights)
  double roofline_sharpness = 4.0;           // p of the smooth roofline (p → ∞: hard max), 1..64
  double gemm_floor = 6e-6;                  // s, least time of one GEMM kernel
  double elementwise_efficiency = 0.6;       // vectorised elementwise kernels (residual add): fraction of HBM bw
  double elementwise_floor = 4e-6;           // s, least time of one elementwise kernel (every launch)
  // Row-wise kernels (operators.hpp, KernelTimes::rowwise): one thread block per token (vLLM's
  // RMSNorm, RoPE, SiLU-and-mul, KV-cache write); few tokens leave SMs idle.
  double rowwise_efficiency = 0.5;           // fraction of HBM bw once the tokens' blocks fill the GPU
  double rowwise_tokens_per_sm = 1.0;        // tokens (blocks) per SM at which the occupancy curve turns (0 = off)
  double rowwise_occupancy_sharpness = 4.0;  // p of the occupancy curve (large: hard min(1, x))
  double attention_prefill_efficiency = 0.4;  // prefill attention: fraction of peak FLOP/s approached
                                               // when each query attends to many keys
  double attention_prefill_half_keys = 600;  // keys per query at which prefill attention reaches half
                                             // of that ceiling (per-tile set-up amortised over the key loop)
  double attention_prefill_floor = 10e-6;    // s per prefill attention call (one per layer)
  double attention_decode_efficiency = 0.8;  // decode attention: achieved fraction of HBM bandwidth
  double attention_decode_floor = 15e-6;     // s per decode attention call (one per layer)
  // Decode attention occupancy (operators.hpp, grid_occupancy): the kernel launches
  // one thread block per (sequence, KV head, KV partition); too few blocks leave SMs idle and
  // reach only part of the KV stream's bandwidth.
  double attention_decode_partition = 512;   // tokens of KV per thread block (split-KV partition)
  double attention_decode_blocks_per_sm = 0; // blocks per SM at which the occupancy curve turns (0 = off)
  double attention_decode_occupancy_sharpness = 1.0;  // p of the occupancy curve (large: hard min(1, x))
  double nvlink_efficiency = 0.5;            // all-reduce bus bandwidth, low-latency protocol, fraction of NVLink's
  double allreduce_latency = 40e-6;          // s, per-call floor of an all-reduce, low-latency protocol
  double nvlink_bulk_efficiency = 0.65;      // all-reduce bus bandwidth, bulk (NCCL Simple) protocol
  double allreduce_bulk_latency = 100e-6;    // s, per-call floor of an all-reduce, bulk protocol
  double step_overhead = 1e-3;               // s of CPU work per step
  double overhead_per_seq = 40e-6;           // s of CPU work per sequence in the step
  double overhead_per_token = 0.0;           // s of CPU work per token computed
};

// The [compute] section: which step-time model, its calibration and knobs.
struct ComputeSpec {
  std::string model = "analytical";  // a name of step_time_models()
  std::string calibration;           // calibration card the knobs came from ("" = built-in defaults)
  AnalyticalParams params;           // analytical knobs (also the profile model's fallback shape)
  std::vector<std::string> profile_tables;  // CSV files in kvsim's operator schema (profile model)
};
// Scenario still names the section's type by its first model.
using RooflineParams = ComputeSpec;

// One registered step-time model: name, help text and factory (the family's registry is
// models/compute/registry.cpp).
struct StepTimeModelInfo {
  std::string_view name;
  std::string_view help;
  std::unique_ptr<PerfModel> (*make)(const ModelCard& model, const GpuCard& gpu, int tp, const ComputeSpec& spec);
};
const Registry<StepTimeModelInfo>& step_time_models();
std::vector<std::string> step_time_model_names();

// The scenario's step-time model (throws std::invalid_argument on an unknown name or bad knobs).
std::unique_ptr<PerfModel> make_step_time_model(const ModelCard& model, const GpuCard& gpu, int tp,
                                                const ComputeSpec& spec);
std::unique_ptr<PerfModel> make_analytical(const ModelCard& model, const GpuCard& gpu, int tp,
                                           const AnalyticalParams& params);

}  // namespace kvsim::compute
