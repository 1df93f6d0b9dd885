// Analytical step-time model (`compute.model = "analytical"`, the default): the time of one
// engine step as a sum of per-operator rooflines, after Williams, Waterman & Patterson,
// "Roofline: an insightful visual performance model for multicore architectures" (CACM
// 2009), applied to transformer inference as in LLM-Viewer (Yuan et al., 2024), with the
// per-operator decomposition of a step used by Vidur (Agrawal et al., MLSys 2024), and the
// terms that measured kernels show a plain roofline misses: per-kernel floors, the
// elementwise operators, a smooth ridge, separate prefill/decode attention and a CPU time
// that grows with the batch. docs/accuracy.md reports how well it matches real GPUs.
//
// Kernels (operators.cpp; peak = GpuCard::flops, bw = HBM bandwidth, e_* the [compute] knobs)
//   GEMM out[N x k]·W[k x n]   gemm_floor + smooth(2·N·k·n / (peak·flops_efficiency),
//                                               (k·n + N·(k+n))·dtype / (bw·hbm_efficiency))
//   smooth(a, b) = (a^p + b^p)^(1/p), p = roofline_sharpness: the hard max for p → ∞, and
//                  above it near the ridge, where real GEMMs are neither compute- nor
//                  memory-bound (measured: 64–512 tokens).
//   vectorised elementwise       elementwise_floor + B / (bw·elementwise_efficiency)   (residual add)
//   row-wise elementwise         elementwise_floor + N·b / (bw·rowwise_efficiency·occupancy(N))
//                                one thread block per token: few tokens leave SMs idle (operators.hpp)
//   prefill attention call       floor + smooth(4·pairs·heads·head_dim/tp / (peak·e_prefill(K)),
//                                              bytes / (bw·attention_decode_efficiency)),
//                                e_prefill(K) = attention_prefill_efficiency · K / (K + half_keys),
//                                K = pairs / query tokens (keys per query; operators.hpp says why)
//   decode attention call        floor + KV bytes / (bw·attention_decode_efficiency·occupancy),
//                                occupancy of kv_heads·max(S_d, Σ context / partition) thread
//                                blocks on the GPU's SMs (split-KV decode, operators.hpp)
//   all-reduce of M bytes        min over NCCL protocols (low-latency, bulk) of
//                                latency + 2(tp−1)/tp · M / (nvlink·efficiency)
//                                (ring all-reduce, Patarasuk & Yuan, JPDC 2009)
//   CPU                          step_overhead + overhead_per_seq·seqs + overhead_per_token·tokens
//
// One step over a batch of N new tokens (N_p of them prefill), S sequences (S_d decodes),
// num_logits sampling positions, on tensor-parallel degree tp (heads, KV heads and MLP
// columns split evenly; every width below is per GPU), with L layers:
//   linear     L · [gemm(N, h, (H+2·KV)·d) + gemm(N, H·d, h) + gemm(N, h, 2·I) + gemm(N, I, h)]
//   elementwise L · [2 RMSNorm (3·h per token) + RoPE (2·(H+KV)·d + d) + act (3·I) + 2 adds (3·N·h)]·dtype
//              (what each kernel reads and writes, see operators.cpp)
//   kv_write   L · rowwise(N, 2·2·KV·d · dtype)                   (read K,V; write the cache)
//   attention  L · [prefill call if S_p > 0 + decode call if S_d > 0], pairs and KV bytes from
//              BatchShape (chunk c after p tokens: c·p + c(c+1)/2 pairs, p + c tokens read)
//   allreduce  2·L all-reduces of N·h·dtype bytes when tp > 1 (Megatron-LM TP, Shoeybi et
//              al., 2019: after the attention output and after the MLP down projection)
//   lm_head    gemm(num_logits, h, V)
//   overhead   cpu(S, N)
// Every term is a closed form in BatchShape's sums, so a step costs O(1) whatever the batch,
// and a decode step advanced by BatchShape::advance_decode is computed exactly as a fresh one.
//
// Left out on purpose: overlap between kernels (each runs alone, as kineto measures them),
// the logits all-gather under TP, sampling kernels (in the CPU term, as measured), MoE.
// An empty batch costs nothing (all fields 0), matching PerfModel::step_time.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include <vector>

#include "models/compute/operators.hpp"
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
  if (chunk == 1) {
    decode_seqs += 1u;
    decode_context += p + 1.0;
  }
}

// Valid only for an all-decode batch (new_tokens == num_seqs, one token per sequence): then
// each sequence's prior context grows by exactly one token per step, which adds one
// (query, key) pair and one KV token read per sequence. A batch with prefill chunks would
// need the chunk sizes, which the aggregate shape no longer holds.
void BatchShape::advance_decode() {
  attention_pairs += double(num_seqs);
  context_tokens += double(num_seqs);
  decode_context += double(decode_seqs);
}

namespace {

class Analytical final : public PerfModel {
 public:
  Analytical(const ModelCard& model, const GpuCard& gpu, int tp, const AnalyticalParams& params)
      : kernels_(gpu, params),
        tp_(tp),
        layers_(double(model.layers)),
        hidden_(double(model.hidden)),
        dtype_(double(model.dtype_bytes)),
        head_dim_(double(model.head_dim)),
        q_width_(double(model.heads) * model.head_dim / tp),
        kv_width_(double(model.kv_heads) * model.head_dim / tp),
        kv_heads_(double(model.kv_heads) / tp),
        inner_(double(model.intermediate) / tp),
        up_width_((model.gated_mlp ? 2.0 : 1.0) * double(model.intermediate) / tp),
        vocab_(double(model.vocab) / tp),
        gated_(model.gated_mlp) {}

  StepBreakdown breakdown(const BatchShape& batch) const override {
    StepBreakdown out;
    if (batch.num_seqs == 0) return out;
    const double n = double(batch.new_tokens);
    const auto& k = kernels_;

    const TokenTerms& t = token_terms(batch.new_tokens);
    out.linear = t.linear;
    out.elementwise = t.elementwise;
    out.kv_write = t.kv_write;
    out.allreduce = t.allreduce;

    double attention = 0.0;
    if (batch.prefill_seqs() > 0) {
      const double bytes = (batch.prefill_context() * 2.0 * kv_width_ + 2.0 * batch.prefill_tokens() * q_width_) * dtype_;
      attention += k.attention_prefill(4.0 * batch.prefill_pairs() * q_width_, bytes,
                                       batch.prefill_tokens() > 0 ? batch.prefill_pairs() / batch.prefill_tokens() : 0.0);
    }
    if (batch.decode_seqs > 0)
      attention += k.attention_decode_at(batch.decode_context * 2.0 * kv_width_ * dtype_, decode_occupancy(batch));
    out.attention = layers_ * attention;

    out.lm_head = lm_head(batch.num_logits);
    out.overhead = k.cpu(double(batch.num_seqs), n);
    return out;
  }

 private:
  // The terms that depend only on the step's token count. They are memoised per count: a
  // smooth roofline costs two pow() calls per kernel, and a run asks for the same few
  // thousand counts millions of times (every step of a multi-step plan has the same one).
  // The memo returns the very values the formulas give, so results do not change. A model
  // serves one simulation, on one thread.
  struct TokenTerms {
    double linear = 0, elementwise = 0, kv_write = 0, allreduce = 0;
    bool known = false;
  };
  static constexpr std::uint64_t kMemoLimit = 1u << 20;  // counts beyond are computed each time

  TokenTerms compute_token_terms(double n) const {
    const auto& k = kernels_;
    TokenTerms t;
    t.linear = layers_ * (k.gemm(n, hidden_, q_width_ + 2.0 * kv_width_, dtype_) + k.gemm(n, q_width_, hidden_, dtype_) +
                          k.gemm(n, hidden_, up_width_, dtype_) + k.gemm(n, inner_, hidden_, dtype_));
    t.elementwise = layers_ * layer_elementwise(k, n, hidden_, q_width_ + kv_width_, head_dim_, inner_, gated_, dtype_);
    t.kv_write = layers_ * kv_write_time(k, n, kv_width_, dtype_);
    if (tp_ > 1) t.allreduce = 2.0 * layers_ * k.all_reduce(n * hidden_ * dtype_, tp_);
    t.known = true;
    return t;
  }
  const TokenTerms& token_terms(std::uint64_t tokens) const {
    if (tokens >= kMemoLimit) {
      scratch_ = compute_token_terms(double(tokens));
      return scratch_;
    }
    if (tokens >= by_tokens_.size()) by_tokens_.resize(std::size_t(tokens) + 1);
    TokenTerms& t = by_tokens_[std::size_t(tokens)];
    if (!t.known) t = compute_token_terms(double(tokens));
    return t;
  }
  double lm_head(std::uint32_t logits) const {
    if (logits >= lm_head_by_logits_.size()) lm_head_by_logits_.resize(std::size_t(logits) + 1, -1.0);
    double& v = lm_head_by_logits_[logits];
    if (v < 0) v = kernels_.gemm(double(logits), hidden_, vocab_, dtype_);
    return v;
  }

  // The decode attention occupancy (two pow() calls) memoised for the same reason. Its block
  // count kv_heads·max(seqs, Σ context / partition) (decode_attention_blocks) is a function
  // of the sequence count or of the context sum, whichever term the max takes, both whole
  // numbers: a run meets the same few tens of thousands of values again and again (95 % of
  // the decode steps of the 2-minute tools/bench_cluster.sh run repeat an earlier count).
  // Arrays indexed by them rather than a hash: the steps of one plan read neighbouring
  // entries (the context grows by the batch size per step), which the cache keeps close.
  static constexpr std::size_t kContextMemoLimit = 1u << 21;  // context sums beyond are computed each time
  double decode_occupancy(const BatchShape& batch) const {
    const double seqs = double(batch.decode_seqs);
    const double blocks = decode_attention_blocks(kv_heads_, seqs, batch.decode_context, kernels_.decode_partition());
    // The same comparison as std::max in decode_attention_blocks: which term is the count.
    const bool by_context = seqs < batch.decode_context / kernels_.decode_partition();
    const std::size_t index = by_context ? std::size_t(batch.decode_context) : std::size_t(batch.decode_seqs);
    auto& memo = by_context ? occupancy_by_context_ : occupancy_by_seqs_;
    if (index >= kContextMemoLimit) return kernels_.decode_occupancy(blocks);
    if (index >= memo.size()) memo.resize(std::min(std::max(index + 1, 2 * memo.size()), kContextMemoLimit), 0.0);
    double& occupancy = memo[index];  // 0 = not known yet (an occupancy is positive)
    if (occupancy == 0.0) occupancy = kernels_.decode_occupancy(blocks);
    return occupancy;
  }

  mutable std::vector<TokenTerms> by_tokens_;
  mutable std::vector<double> occupancy_by_context_, occupancy_by_seqs_;
  mutable std::vector<double> lm_head_by_logits_;
  mutable TokenTerms scratch_;
  KernelTimes kernels_;
  int tp_;
  double layers_, hidden_, dtype_, head_dim_;
  // Per-GPU widths (already divided by tp).
  double q_width_, kv_width_, kv_heads_, inner_, up_width_, vocab_;
  bool gated_;
};

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("analytical step-time model: " + message);
}

bool fraction(double x) { return x > 0.0 && x <= 1.0; }

}  // namespace

std::unique_ptr<PerfModel> make_analytical(const ModelCard& model, const GpuCard& gpu, int tp,
                                           const AnalyticalParams& params) {
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
  const auto& p = params;
  require(fraction(p.flops_efficiency) && fraction(p.hbm_efficiency) && fraction(p.elementwise_efficiency) &&
              fraction(p.rowwise_efficiency) &&
              fraction(p.attention_prefill_efficiency) && fraction(p.attention_decode_efficiency) &&
              fraction(p.nvlink_efficiency) && fraction(p.nvlink_bulk_efficiency),
          "efficiencies must be in (0, 1]");
  require(p.roofline_sharpness >= 1.0, "roofline_sharpness must be at least 1");
  require(p.attention_decode_partition >= 1.0, "attention_decode_partition must be at least 1 token");
  require(p.attention_decode_blocks_per_sm >= 0.0, "attention_decode_blocks_per_sm must not be negative");
  require(p.attention_decode_occupancy_sharpness > 0.0, "attention_decode_occupancy_sharpness must be positive");
  require(p.rowwise_tokens_per_sm >= 0.0, "rowwise_tokens_per_sm must not be negative");
  require(p.rowwise_occupancy_sharpness > 0.0, "rowwise_occupancy_sharpness must be positive");
  require(p.gemm_floor >= 0.0 && p.elementwise_floor >= 0.0 && p.attention_prefill_floor >= 0.0 &&
              p.attention_decode_floor >= 0.0 && p.attention_prefill_half_keys >= 0.0 &&
              p.allreduce_latency >= 0.0 && p.allreduce_bulk_latency >= 0.0 && p.step_overhead >= 0.0 &&
              p.overhead_per_seq >= 0.0 && p.overhead_per_token >= 0.0,
          "floors, latencies and overheads must not be negative");
  return std::make_unique<Analytical>(model, gpu, tp, params);
}

}  // namespace kvsim::compute
