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

}  // namespace kvsim::compute
