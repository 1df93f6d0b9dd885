// Parameter counts of a decoder-only transformer derived from its architecture card
// (models/compute/llm/*.toml). The step-time models need the linear-layer weights (streamed
// from HBM once per step and multiplied by every new token) separately from the LM head
// (multiplied only by positions that sample a token).
//
// Counted per layer, following the Llama/Qwen2 layout in Hugging Face transformers:
//   attention: Q (hidden x heads*head_dim), K and V (hidden x kv_heads*head_dim each),
//              O (heads*head_dim x hidden);
//   MLP:       gated (SwiGLU: gate, up, down) = 3 x hidden x intermediate,
//              classic (up, down)             = 2 x hidden x intermediate.
// Biases (Qwen2.5's QKV bias) and norm weights are ignored: together they are well under
// 0.01% of the weights and do not change a step time measurably.
#include "models/compute/perf_model.hpp"

namespace kvsim::compute {

double ModelCard::linear_params() const {
  // heads*head_dim, not hidden, sizes Q and O: the two differ in some architectures
  // (e.g. Gemma), and the projection shapes follow the head layout.
  const double q_width = double(heads) * head_dim;
  const double kv_width = double(kv_heads) * head_dim;
  const double attention = double(hidden) * q_width        // Q
                           + 2.0 * double(hidden) * kv_width  // K, V
                           + q_width * double(hidden);        // O
  const double mlp = (gated_mlp ? 3.0 : 2.0) * double(hidden) * double(intermediate);
  return double(layers) * (attention + mlp);
}

double ModelCard::total_params() const {
  // With tied embeddings the input embedding table is the LM head matrix, stored once.
  const double embedding = tied_embeddings ? 0.0 : double(vocab) * double(hidden);
  return linear_params() + lm_head_params() + embedding;
}

// vLLM sizes its KV cache after a profiling forward pass over a dummy batch of
// max_num_batched_tokens tokens (max_num_seqs sequences), and subtracts that run's peak
// memory increase from gpu_memory_utilization x total memory, with the weights. Layers run one
// after the other and free their intermediates, so the peak is inside one layer's MLP, where
// the residual stream and the normed input (hidden wide each), the fused gate+up output
// (2 x intermediate / tp) and the activation's output (intermediate / tp) are alive at once,
// all in the model's dtype. The sampler then holds float32 logits and probabilities
// (2 x 4 B x vocab, gathered whole on every GPU) for each sampled position. Attention's Q/K/V
// (at most hidden + 2 kv widths / tp) is smaller than the MLP's and never alive with it.
double ModelCard::peak_activation_bytes(int tp, std::uint64_t tokens, std::uint64_t sampled) const {
  const double mlp_peak = double(tokens) * (2.0 * hidden + 3.0 * double(intermediate) / tp) * dtype_bytes;
  const double sampler = double(sampled) * 2.0 * 4.0 * vocab;
  return mlp_peak + sampler;
}

}  // namespace kvsim::compute
