// Step-time models: how long one engine step (one forward pass over a batch) takes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

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
};

// Aggregate description of one step's batch. Every quantity the roofline needs is a sum
// over sequences, so a batch is described in O(1) space and a decode step of a fixed batch
// is advanced by adding constants (see advance_decode).
struct BatchShape {
  std::uint32_t num_seqs = 0;          // sequences in the step
  std::uint32_t num_logits = 0;        // sequences that sample a token this step
  std::uint64_t new_tokens = 0;        // tokens computed (prefill chunk tokens + 1 per decode)
  double attention_pairs = 0;          // Σ (query, key) pairs: chunk c after context p → c·p + c(c+1)/2
  double context_tokens = 0;           // Σ tokens whose KV is read: p + c per sequence

  // Adds a sequence computing `chunk` new tokens after `prior_context` cached/computed ones.
  // samples_token: whether this step produces an output token for it (decode, or the last
  // chunk of a prefill).
  void add(std::uint64_t prior_context, std::uint64_t chunk, bool samples_token);
  // The same batch one decode step later: every sequence's context grew by one token.
  void advance_decode();
};

struct StepBreakdown {
  double linear = 0, attention = 0, kv_write = 0, allreduce = 0, lm_head = 0, overhead = 0;
  double total() const { return linear + attention + kv_write + allreduce + lm_head + overhead; }
};

class PerfModel {
 public:
  virtual ~PerfModel() = default;
  virtual StepBreakdown breakdown(const BatchShape& batch) const = 0;
  // Seconds for one step; 0 for an empty batch.
  double step_time(const BatchShape& batch) const { return batch.num_seqs == 0 ? 0.0 : breakdown(batch).total(); }
};

// Knobs of the roofline model ([compute] in a scenario).
struct RooflineParams {
  double flops_efficiency = 0.6;      // achieved fraction of peak FLOP/s on GEMMs
  double attention_efficiency = 0.5;  // achieved fraction of peak FLOP/s in attention kernels
  double hbm_efficiency = 0.8;        // achieved fraction of HBM bandwidth
  double nvlink_efficiency = 0.7;     // achieved fraction of NVLink bandwidth in all-reduce
  double allreduce_latency = 5e-6;    // seconds per all-reduce call (launch + sync)
  double step_overhead = 2e-3;        // seconds of CPU/scheduling work per step
};

std::unique_ptr<PerfModel> make_roofline(const ModelCard& model, const GpuCard& gpu, int tp,
                                         const RooflineParams& params);

}  // namespace kvsim::compute
