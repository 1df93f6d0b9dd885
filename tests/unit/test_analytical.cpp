// Known-answer tests of the analytical step-time model (models/compute/analytical.cpp and
// operators.cpp) and of the parameter counts of ModelCard (models/compute/model_card.cpp). Every expected value is
// derived by hand in the comments from the published architecture of Llama-3.1-8B/70B (Hugging
// Face config.json) and the NVIDIA H100 SXM datasheet; the cards are built here, not read
// from the TOML files, so these tests pin the arithmetic and nothing else.
#include <doctest/doctest.h>

#include <stdexcept>

#include "models/compute/operators.hpp"
#include "models/compute/perf_model.hpp"
#include "sim/util/error.hpp"

using kvsim::compute::BatchShape;
using kvsim::compute::GpuCard;
using kvsim::compute::make_analytical;
using kvsim::compute::make_step_time_model;
using kvsim::compute::smooth_max;
using kvsim::compute::ModelCard;
using kvsim::compute::AnalyticalParams;
using kvsim::compute::ComputeSpec;
using kvsim::compute::KernelTimes;
using kvsim::compute::kernel_time;
using kvsim::compute::Operator;
using kvsim::compute::OperatorShape;
using kvsim::compute::StepBreakdown;

namespace {

ModelCard llama_8b() {
  ModelCard m;
  m.name = "llama-3.1-8b";
  m.layers = 32;
  m.hidden = 4096;
  m.heads = 32;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.intermediate = 14336;
  m.vocab = 128256;
  m.dtype_bytes = 2;
  m.gated_mlp = true;
  m.tied_embeddings = false;
  m.max_context = 131072;
  return m;
}

ModelCard llama_70b() {
  ModelCard m = llama_8b();
  m.name = "llama-3.1-70b";
  m.layers = 80;
  m.hidden = 8192;
  m.heads = 64;
  m.kv_heads = 8;
  m.intermediate = 28672;
  return m;
}

GpuCard h100() {
  GpuCard g;
  g.name = "h100-sxm";
  g.flops = 989e12;           // dense BF16
  g.hbm_bytes = 80e9;
  g.hbm_bandwidth = 3.35e12;
  g.nvlink_bandwidth = 450e9;  // per direction
  g.pcie_generation = 5;
  g.pcie_bandwidth = 64e9;
  g.tdp = 700;
  return g;
}

// Llama-3.1-8B, per layer:
//   Q  4096 × (32·128)  = 16,777,216     K, V  4096 × (8·128) = 4,194,304 each
//   O  (32·128) × 4096  = 16,777,216     → attention 41,943,040
//   MLP (SwiGLU) 3 × 4096 × 14336        = 176,160,768
//   layer 218,103,808; × 32 layers       = 6,979,321,856 linear parameters
//   LM head 4096 × 128256                = 525,336,576 (embedding table the same, untied)
//   total 6,979,321,856 + 2 × 525,336,576 = 8,029,995,008 ≈ 8.03e9
//   KV per token 2 (K,V) × 32 layers × 8 heads × 128 × 2 B = 131,072 B
constexpr double p8_linear = 6'979'321'856.0;
constexpr double p8_lm_head = 525'336'576.0;
constexpr double kv8 = 131'072.0;

// Llama-3.1-70B, per layer:
//   Q  8192 × (64·128)  = 67,108,864     K, V  8192 × (8·128) = 8,388,608 each
//   O  (64·128) × 8192  = 67,108,864     → attention 150,994,944
//   MLP 3 × 8192 × 28672                 = 704,643,072
//   layer 855,638,016; × 80 layers       = 68,451,041,280 linear parameters
//   LM head 8192 × 128256                = 1,050,673,152 (embedding the same, untied)
//   total 68,451,041,280 + 2 × 1,050,673,152 = 70,552,387,584 ≈ 70.55e9
//   KV per token 2 × 80 × 8 × 128 × 2 B  = 327,680 B
constexpr double p70_linear = 68'451'041'280.0;
constexpr double p70_lm_head = 1'050'673'152.0;
constexpr double kv70 = 327'680.0;

}  // namespace

TEST_CASE("analytical - parameter and byte counts of llama-3.1-8b and llama-3.1-70b") {
  const ModelCard m8 = llama_8b();
  CHECK(m8.linear_params() == doctest::Approx(p8_linear).epsilon(1e-9));
  CHECK(m8.lm_head_params() == doctest::Approx(p8_lm_head).epsilon(1e-9));
  CHECK(m8.total_params() == doctest::Approx(8'029'995'008.0).epsilon(1e-9));
  CHECK(m8.weight_bytes() == doctest::Approx(16'059'990'016.0).epsilon(1e-9));  // × 2 B
  CHECK(m8.kv_bytes_per_token() == doctest::Approx(kv8).epsilon(1e-9));

  const ModelCard m70 = llama_70b();
  CHECK(m70.linear_params() == doctest::Approx(p70_linear).epsilon(1e-9));
  CHECK(m70.lm_head_params() == doctest::Approx(p70_lm_head).epsilon(1e-9));
  CHECK(m70.total_params() == doctest::Approx(70'552'387'584.0).epsilon(1e-9));
  CHECK(m70.weight_bytes() == doctest::Approx(141'104'775'168.0).epsilon(1e-9));
  CHECK(m70.kv_bytes_per_token() == doctest::Approx(kv70).epsilon(1e-9));
}

TEST_CASE("analytical - classic MLP and tied embeddings change the parameter count") {
  // A toy card: 3 layers, hidden 8, 2 heads × 4, 1 KV head, intermediate 32, vocab 100.
  //   Q 8×8 = 64, K = V = 8×4 = 32, O 8×8 = 64 → attention 192 per layer
  //   classic MLP 2 × 8 × 32 = 512 → 704 per layer, × 3 = 2,112
  //   gated MLP   3 × 8 × 32 = 768 → 960 per layer, × 3 = 2,880
  //   LM head 8 × 100 = 800; embedding 800 unless tied
  ModelCard m;
  m.layers = 3;
  m.hidden = 8;
  m.heads = 2;
  m.kv_heads = 1;
  m.head_dim = 4;
  m.intermediate = 32;
  m.vocab = 100;
  m.gated_mlp = false;
  m.tied_embeddings = true;
  CHECK(m.linear_params() == doctest::Approx(2112.0).epsilon(1e-9));
  CHECK(m.total_params() == doctest::Approx(2112.0 + 800.0).epsilon(1e-9));
  m.tied_embeddings = false;
  CHECK(m.total_params() == doctest::Approx(2112.0 + 1600.0).epsilon(1e-9));
  m.gated_mlp = true;
  CHECK(m.linear_params() == doctest::Approx(2880.0).epsilon(1e-9));
  // heads·head_dim (8) differs from hidden (16) here: Q and O are hidden × 8, K and V
  // hidden × 4: 128 + 2·64 + 128 = 384; gated MLP 3 × 16 × 32 = 1536; (384 + 1536) × 3.
  m.hidden = 16;
  CHECK(m.linear_params() == doctest::Approx(5760.0).epsilon(1e-9));
}

TEST_CASE("analytical - BatchShape sums a mixed batch") {
  BatchShape b;
  b.add(100, 50, false);  // prefill chunk: 50·100 + 50·51/2 = 5,000 + 1,275 = 6,275 pairs
  b.add(7, 1, true);      // decode: 1·7 + 1 = 8 pairs
  b.add(0, 3, true);      // last chunk of a short prompt: 0 + 3·4/2 = 6 pairs
  CHECK(b.num_seqs == 3u);
  CHECK(b.num_logits == 2u);
  CHECK(b.new_tokens == 54u);
  CHECK(b.attention_pairs == doctest::Approx(6275.0 + 8.0 + 6.0).epsilon(1e-9));
  CHECK(b.context_tokens == doctest::Approx(150.0 + 8.0 + 3.0).epsilon(1e-9));
}


namespace {
// A round GPU for hand arithmetic: 1e15 FLOP/s, 1e12 B/s HBM, 1e11 B/s NVLink.
GpuCard round_gpu() {
  GpuCard g;
  g.name = "round";
  g.flops = 1e15;
  g.hbm_bandwidth = 1e12;
  g.nvlink_bandwidth = 1e11;
  return g;
}
// Every efficiency 1 (rates are the datasheet's), a hard roofline, explicit floors.
AnalyticalParams round_params() {
  AnalyticalParams p;
  p.flops_efficiency = p.hbm_efficiency = p.elementwise_efficiency = p.rowwise_efficiency = 1.0;
  p.attention_prefill_efficiency = p.attention_decode_efficiency = p.nvlink_efficiency = 1.0;
  p.roofline_sharpness = 64;
  p.gemm_floor = 5e-6;
  p.elementwise_floor = 2e-6;
  p.attention_prefill_floor = 10e-6;
  p.attention_decode_floor = 8e-6;
  p.allreduce_latency = 20e-6;
  p.attention_prefill_half_keys = 0;  // prefill attention at its ceiling whatever its keys
  p.allreduce_bulk_latency = 1.0;     // the bulk all-reduce protocol never wins
  p.step_overhead = 1e-3;
  p.overhead_per_seq = 40e-6;
  p.overhead_per_token = 0;
  return p;
}
}  // namespace

TEST_CASE("analytical - the smooth roofline: p-norm of the two terms, the hard max in the limit") {
  CHECK(smooth_max(3.0, 4.0, 2.0) == doctest::Approx(5.0).epsilon(1e-12));  // sqrt(9 + 16)
  CHECK(smooth_max(3.0, 4.0, 1.0) == doctest::Approx(7.0).epsilon(1e-12));  // the sum
  CHECK(smooth_max(3.0, 4.0, 64.0) == 4.0);                                 // hard max
  // Converges to the max: (1 + 0.75^p)^(1/p) − 1 → 0; at p = 40 the excess is 0.75^40/40 ≈ 2.5e-7.
  CHECK(smooth_max(3.0, 4.0, 40.0) == doctest::Approx(4.0).epsilon(1e-6));
  CHECK(smooth_max(3.0, 4.0, 8.0) > 4.0);
  CHECK(smooth_max(0.0, 0.0, 4.0) == 0.0);
}

TEST_CASE("analytical - a GEMM's floor binds for one token and is negligible for large ones") {
  const KernelTimes k(round_gpu(), round_params());
  // 1 token x 1024 x 1024: compute 2·1·1024·1024 / 1e15 = 2.1e-9 s; memory
  // (1024·1024 + 1·2048)·2 B / 1e12 = 2.10125e-6 s; + floor 5e-6 → 7.10125e-6 s.
  CHECK(k.gemm(1, 1024, 1024, 2) == doctest::Approx(7.10125e-6).epsilon(1e-9));
  // 8192³: compute 2·8192³ / 1e15 = 1.099511627776e-3 s dominates memory 4.0265e-4 s;
  // the floor adds 5e-6 (0.45 %).
  CHECK(k.gemm(8192, 8192, 8192, 2) == doctest::Approx(1.099511627776e-3 + 5e-6).epsilon(1e-9));
}

TEST_CASE("analytical - elementwise, attention, all-reduce and CPU kernels by hand") {
  const KernelTimes k(round_gpu(), round_params());
  CHECK(k.elementwise(1e6) == doctest::Approx(2e-6 + 1e-6).epsilon(1e-12));
  // Prefill: 1e12 FLOP at 1e15 → 1e-3 s vs 1e6 B at 1e12 → 1e-6 s, + floor 10 µs.
  CHECK(k.attention_prefill(1e12, 1e6, 300.0) == doctest::Approx(1e-3 + 10e-6).epsilon(1e-12));
  // Decode: memory-bound, 1e8 B / 1e12 = 1e-4 s, + floor 8 µs.
  CHECK(k.attention_decode(1e8) == doctest::Approx(1e-4 + 8e-6).epsilon(1e-12));
  // Ring all-reduce at tp 4: 2·3/4 · 1e6 B / 1e11 B/s = 1.5e-5 s, + 20 µs; nothing at tp 1.
  CHECK(k.all_reduce(1e6, 4) == doctest::Approx(35e-6).epsilon(1e-12));
  CHECK(k.all_reduce(1e6, 1) == 0.0);
  CHECK(k.cpu(8, 8) == doctest::Approx(1e-3 + 8 * 40e-6).epsilon(1e-12));
}

TEST_CASE("analytical - one step of llama-3.1-8b at tp 2 summed by hand from its kernels") {
  AnalyticalParams params = round_params();
  params.attention_prefill_half_keys = 100;
  const KernelTimes k(round_gpu(), params);
  const auto model = make_analytical(llama_8b(), round_gpu(), 2, params);
  BatchShape b;
  b.add(0, 100, true);   // prefill of 100 tokens: 100·101/2 = 5,050 pairs, 100 KV tokens read
  b.add(300, 1, true);   // decode at 300: 301 pairs and tokens
  const auto out = model->breakdown(b);
  // Per GPU at tp 2: Q/O width 32·128/2 = 2048, KV width 8·128/2 = 512, MLP 14336/2 = 7168.
  const double n = 101;
  const double linear = 32 * (k.gemm(n, 4096, 2048 + 2 * 512, 2) + k.gemm(n, 2048, 4096, 2) +
                              k.gemm(n, 4096, 2 * 7168, 2) + k.gemm(n, 7168, 4096, 2));
  CHECK(out.linear == doctest::Approx(linear).epsilon(1e-12));
  // Elementwise bytes per token (operators.cpp), no SM count so no occupancy, 2 µs floors at
  // 1e12 B/s: RMSNorm 3·4096·2 B → 2 + 2.482176 µs for 101 tokens (twice), RoPE
  // (2·2560 + 128)·2 → 2 + 1.060096, SiLU·mul 3·7168·2 → 2 + 4.343808, add 3·4096·2 →
  // 2 + 2.482176 (twice): 27.332608 µs per layer, 874.643456 µs for 32 layers.
  CHECK(out.elementwise == doctest::Approx(874.643456e-6).epsilon(1e-12));
  // Two attention calls per layer: prefill (5,050 pairs, 100 KV tokens + Q/O of 100 tokens) and decode.
  // The prefill call's queries see 5,050 / 100 = 50.5 keys on average: efficiency
  // 50.5 / (50.5 + 100) of the ceiling (1 here), compute 4·5050·2048 / (1e15·50.5/150.5) =
  // 0.123 µs; the bytes, (100·1024 + 200·2048)·2 = 1,024,000 at 1e12, take longer (hard max).
  CHECK(k.attention_prefill(4 * 5050 * 2048, (100 * 2 * 512 + 2 * 100 * 2048) * 2, 50.5) ==
        doctest::Approx(10e-6 + 1.024e-6).epsilon(1e-12));
  const double attention = 32 * (k.attention_prefill(4 * 5050 * 2048, (100 * 2 * 512 + 2 * 100 * 2048) * 2, 50.5) +
                                 k.attention_decode(301 * 2 * 512 * 2));
  CHECK(out.attention == doctest::Approx(attention).epsilon(1e-12));
  // K and V of 101 tokens read and written, 2·2·512·2 B each: 32 · (2 + 0.413696) µs.
  CHECK(out.kv_write == doctest::Approx(77.238272e-6).epsilon(1e-12));
  CHECK(out.allreduce == doctest::Approx(2 * 32 * k.all_reduce(n * 4096 * 2, 2)).epsilon(1e-12));
  CHECK(out.lm_head == doctest::Approx(k.gemm(2, 4096, 128256 / 2.0, 2)).epsilon(1e-12));
  CHECK(out.overhead == doctest::Approx(1e-3 + 2 * 40e-6).epsilon(1e-12));
  CHECK(model->step_time(b) == out.total());
}

TEST_CASE("analytical - decode attention floors: once per layer per kind, whatever the batch") {
  const auto model = make_analytical(llama_8b(), round_gpu(), 1, round_params());
  BatchShape one, many;
  one.add(0, 1, true);                              // 1 pair: the floor is the whole call
  for (int i = 0; i < 64; ++i) many.add(0, 1, true);
  // One decode call per layer: 32 floors of 8 µs, plus 1 pair's KV (2·8·128·2 B) at 1e12 B/s.
  CHECK(model->breakdown(one).attention == doctest::Approx(32 * (8e-6 + 4096 / 1e12)).epsilon(1e-9));
  CHECK(model->breakdown(many).attention == doctest::Approx(32 * (8e-6 + 64 * 4096 / 1e12)).epsilon(1e-9));
}

TEST_CASE("analytical - BatchShape keeps decode sequences apart and advances them exactly") {
  BatchShape b;
  b.add(100, 50, false);  // prefill chunk: 50·100 + 50·51/2 = 6,275 pairs
  b.add(7, 1, true);      // decode: 8 pairs
  b.add(0, 3, true);      // short last chunk: 6 pairs
  CHECK(b.decode_seqs == 1u);
  CHECK(b.decode_context == 8.0);
  CHECK(b.prefill_seqs() == 2u);
  CHECK(b.prefill_tokens() == 53.0);
  CHECK(b.prefill_pairs() == 6281.0);
  CHECK(b.prefill_context() == 153.0);
  // A decode batch advanced k steps is the same shape, bit for bit, as one built k tokens later.
  const auto model = make_analytical(llama_70b(), h100(), 4, AnalyticalParams{});
  BatchShape advanced;
  for (std::uint64_t c : {17u, 900u, 4000u}) advanced.add(c, 1, true);
  for (int j = 0; j < 25; ++j) advanced.advance_decode();
  BatchShape fresh;
  for (std::uint64_t c : {17u, 900u, 4000u}) fresh.add(c + 25, 1, true);
  CHECK(advanced.decode_context == fresh.decode_context);
  CHECK(model->step_time(advanced) == model->step_time(fresh));
}

TEST_CASE("analytical - invalid knobs and unknown model names are refused") {
  AnalyticalParams p;
  p.flops_efficiency = 1.5;
  CHECK_THROWS_AS(make_analytical(llama_8b(), h100(), 1, p), std::invalid_argument);
  p = AnalyticalParams{};
  p.gemm_floor = -1e-6;
  CHECK_THROWS_AS(make_analytical(llama_8b(), h100(), 1, p), std::invalid_argument);
  CHECK_THROWS_AS(make_analytical(llama_70b(), h100(), 3, AnalyticalParams{}), std::invalid_argument);
  ComputeSpec spec;
  spec.model = "rooflin";
  CHECK_THROWS_WITH_AS(make_step_time_model(llama_8b(), h100(), 1, spec),
                       doctest::Contains("compute.model: unknown step-time model \"rooflin\" (valid: analytical, profile)"),
                       kvsim::InputError);
  spec.model = "analytical";
  CHECK(make_step_time_model(llama_8b(), h100(), 1, spec) != nullptr);
}

TEST_CASE("analytical - an empty batch costs nothing") {
  const auto model = make_analytical(llama_8b(), h100(), 1, AnalyticalParams{});
  CHECK(model->step_time(BatchShape{}) == 0.0);
  CHECK(model->breakdown(BatchShape{}).total() == 0.0);
}

TEST_CASE("analytical - prefill attention efficiency rises with keys per query toward its ceiling") {
  using kvsim::compute::prefill_attention_efficiency;
  // ceiling · K / (K + half): 0.4 · 600 / 1200 = 0.2; 0.4 · 1800 / 2400 = 0.3; 0.4 · 5400 / 6000 = 0.36.
  CHECK(prefill_attention_efficiency(0.4, 600, 600) == doctest::Approx(0.2).epsilon(1e-12));
  CHECK(prefill_attention_efficiency(0.4, 600, 1800) == doctest::Approx(0.3).epsilon(1e-12));
  CHECK(prefill_attention_efficiency(0.4, 600, 5400) == doctest::Approx(0.36).epsilon(1e-12));
  CHECK(prefill_attention_efficiency(0.4, 600, 6e9) == doctest::Approx(0.4).epsilon(1e-6));
  CHECK(prefill_attention_efficiency(0.4, 0, 10) == 0.4);  // no set-up cost: always the ceiling
  CHECK(prefill_attention_efficiency(0.4, 600, 0) == 0.4);  // no query: nothing to slow down
}

TEST_CASE("analytical - prefill attention kernel: a long prompt after a long cache runs closer to the ceiling") {
  AnalyticalParams p = round_params();
  p.attention_prefill_half_keys = 2048;
  const KernelTimes k(round_gpu(), p);
  kvsim::compute::OperatorShape s;
  s.op = kvsim::compute::Operator::attn_prefill;
  s.hidden = 4096, s.heads = 32, s.kv_heads = 8, s.head_dim = 128, s.intermediate = 14336, s.vocab = 32000;
  s.tp = 1, s.seqs = 1;
  // 4,095 tokens, no cache: pairs 4095·4096/2 = 8,386,560, keys per query 2,048 → efficiency
  // 0.5; FLOP 4 · 8,386,560 · 4096 = 137,405,399,040 at 0.5e15 → 2.7481079808e-4 s; bytes
  // 4095 · (2·1024 + 2·4096) · 2 = 83,865,600 at 1e12 → 8.39e-5 s, below (hard max); + 10 µs.
  s.tokens = 4095, s.context = 0;
  CHECK(kernel_time(k, s) == doctest::Approx(2.7481079808e-4 + 10e-6).epsilon(1e-10));
  // 2,048 tokens after 6,143: keys per query 6,143 + 2,049/2 = 7,167.5 → efficiency
  // 7167.5 / 9215.5; pairs 2048 · 7167.5 = 14,679,040; FLOP 4 · 14,679,040 · 4096 =
  // 240,501,391,360 → 240.50139136e9 · 9215.5 / 7167.5 / 1e15 ≈ 3.09e-4 s; bytes
  // 8191·2048·2 + 2048·8192·2 = 67,104,768 → 6.7e-5 s, below (hard max); + 10 µs.
  s.tokens = 2048, s.context = 6143;
  CHECK(kernel_time(k, s) == doctest::Approx(240.50139136e9 * 9215.5 / 7167.5 / 1e15 + 10e-6).epsilon(1e-10));
}

TEST_CASE("analytical - the analytical model times a batch's prefill at its mean keys per query") {
  AnalyticalParams p = round_params();
  p.attention_prefill_half_keys = 4000.5;
  const auto model = make_analytical(llama_8b(), round_gpu(), 1, p);
  BatchShape b;
  b.add(0, 2000, true);     // 2000·2001/2 = 2,001,000 pairs
  b.add(6000, 2000, true);  // 2000·6000 + 2,001,000 = 14,001,000 pairs
  // 16,002,000 pairs over 4,000 query tokens: 4,000.5 keys per query → efficiency 1/2.
  // FLOP 4 · 16,002,000 · 4096 at 0.5e15 → 5.24353536e-4 s; bytes: KV of 2,000 + 8,000 tokens
  // (2·1024 wide) and Q, O of 4,000 tokens (4096 wide), 2 B → 106,496,000 B → 1.06496e-4 s,
  // below (hard max); + the 10 µs floor, × 32 layers.
  CHECK(model->breakdown(b).attention == doctest::Approx(32 * (10e-6 + 5.24353536e-4)).epsilon(1e-12));
}

TEST_CASE("analytical - all-reduce: the low-latency protocol for small messages, the bulk one for large") {
  AnalyticalParams p = round_params();
  p.nvlink_efficiency = 0.5;         // low-latency: 5e10 B/s bus bandwidth, 20 µs
  p.nvlink_bulk_efficiency = 1.0;    // bulk: 1e11 B/s, 100 µs
  p.allreduce_bulk_latency = 100e-6;
  const KernelTimes k(round_gpu(), p);
  // tp 2 moves 2·1/2 · M = M bytes. 1 MB: low-latency 20 + 20 = 40 µs, bulk 110 µs → 40 µs.
  CHECK(k.all_reduce(1e6, 2) == doctest::Approx(40e-6).epsilon(1e-12));
  // 100 MB: low-latency 20 + 2000 µs, bulk 100 + 1000 µs → 1,100 µs.
  CHECK(k.all_reduce(1e8, 2) == doctest::Approx(1100e-6).epsilon(1e-12));
  // Crossover where 20e-6 + M/5e10 = 100e-6 + M/1e11: M = 8 MB, both 180 µs.
  CHECK(k.all_reduce(8e6, 2) == doctest::Approx(180e-6).epsilon(1e-12));
  // tp 8 moves 2·7/8 · 1e8 = 1.75e8 B: bulk 100 + 1750 µs beats 20 + 3500 µs.
  CHECK(k.all_reduce(1e8, 8) == doctest::Approx(1850e-6).epsilon(1e-12));
}

TEST_CASE("analytical - decode attention thread blocks: one per sequence, KV head and KV partition") {
  using kvsim::compute::decode_attention_blocks;
  // One sequence of 2,048 tokens, 4 KV heads, 512-token partitions: 4 · 2048/512 = 16 blocks.
  CHECK(decode_attention_blocks(4, 1, 2048, 512) == 16.0);
  // Eight sequences of 100 tokens (800 in all): each still needs one block per KV head, 4 · 8.
  CHECK(decode_attention_blocks(4, 8, 800, 512) == 32.0);
  // Two sequences of 1,536 tokens, 8 KV heads: 8 · 3072/512 = 48.
  CHECK(decode_attention_blocks(8, 2, 3072, 512) == 48.0);
}

TEST_CASE("analytical - decode attention occupancy: the block share for few blocks, 1 for many, off without SMs") {
  using kvsim::compute::grid_occupancy;
  // p = 1: x / (1 + x). 54 blocks on 108 SMs at 1 block per SM: x = 1/2, occupancy 1/3.
  CHECK(grid_occupancy(54, 108, 1, 1) == doctest::Approx(1.0 / 3.0).epsilon(1e-12));
  CHECK(grid_occupancy(108, 108, 1, 1) == doctest::Approx(0.5).epsilon(1e-12));
  // p = 64 is the hard min(x, 1): a quarter of the SMs busy reach a quarter of the bandwidth,
  // twice as many blocks as SMs reach all of it.
  CHECK(grid_occupancy(27, 108, 1, 64) == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(grid_occupancy(216, 108, 1, 64) == doctest::Approx(1.0).epsilon(1e-12));
  // Two blocks per SM needed: 108 blocks are x = 1/2.
  CHECK(grid_occupancy(108, 108, 2, 64) == doctest::Approx(0.5).epsilon(1e-12));
  // Off: no SM count on the GPU card, or blocks_per_sm = 0.
  CHECK(grid_occupancy(5, 0, 1, 1) == 1.0);
  CHECK(grid_occupancy(5, 108, 0, 1) == 1.0);
}

TEST_CASE("analytical - row-wise elementwise kernels: one row's pass below the SM count, the stream above") {
  GpuCard gpu = round_gpu();
  gpu.sms = 100;
  AnalyticalParams p = round_params();
  p.rowwise_tokens_per_sm = 1;
  p.rowwise_occupancy_sharpness = 64;  // hard min(x, 1)
  const KernelTimes k(gpu, p);
  // 1e5 B per token. 1 token: occupancy 1/100, 1e5 / (1e12 · 0.01) = 10 µs + 2 µs floor; 10
  // tokens: 1e6 B at a tenth of the bandwidth, the same 12 µs (idle SMs: a row's pass).
  CHECK(k.rowwise(1, 1e5) == doctest::Approx(12e-6).epsilon(1e-12));
  CHECK(k.rowwise(10, 1e5) == doctest::Approx(12e-6).epsilon(1e-12));
  // 200 tokens fill the GPU: 2e7 B at 1e12 B/s = 20 µs + 2.
  CHECK(k.rowwise(200, 1e5) == doctest::Approx(22e-6).epsilon(1e-12));
  // The vectorised add has no occupancy term: 1e5 B is 0.1 µs + 2.
  CHECK(k.elementwise(1e5) == doctest::Approx(2.1e-6).epsilon(1e-12));
  // rowwise_tokens_per_sm = 0 turns the term off.
  p.rowwise_tokens_per_sm = 0;
  CHECK(KernelTimes(gpu, p).rowwise(1, 1e5) == doctest::Approx(2.1e-6).epsilon(1e-12));
  // rowwise_efficiency scales the stream: at 0.5, 200 tokens take 40 µs + 2.
  p.rowwise_tokens_per_sm = 1;
  p.rowwise_efficiency = 0.5;
  CHECK(KernelTimes(gpu, p).rowwise(200, 1e5) == doctest::Approx(42e-6).epsilon(1e-12));
}

TEST_CASE("analytical - elementwise kernels move what they read and write, per token") {
  const KernelTimes k(round_gpu(), round_params());  // no SM count: no occupancy, 2 µs floor, 1e12 B/s
  // Llama-2-7B at tp 1 (hidden 4096, 32 heads and KV heads of 128, MLP 11008), 1,000 tokens.
  OperatorShape s{Operator::rms_norm, 4096, 32, 32, 128, 11008, 32000, 2, true, 1, 1000, 1, 0, 0};
  // RMSNorm reads x and the weight row, writes y: 3·4096·2 B per token → 24.576 µs.
  CHECK(kernel_time(k, s) == doctest::Approx(26.576e-6).epsilon(1e-12));
  // Residual add reads two, writes one: the same bytes, vectorised kernel.
  s.op = Operator::add;
  CHECK(kernel_time(k, s) == doctest::Approx(26.576e-6).epsilon(1e-12));
  // RoPE reads and writes Q and K ((32 + 32)·128 = 8,192 wide) and reads a cos/sin row of 128:
  // (2·8192 + 128)·2 = 33,024 B per token.
  s.op = Operator::rope;
  CHECK(kernel_time(k, s) == doctest::Approx(35.024e-6).epsilon(1e-12));
  // SiLU-and-mul reads gate and up, writes one: 3·11008·2 = 66,048 B per token.
  s.op = Operator::act;
  CHECK(kernel_time(k, s) == doctest::Approx(68.048e-6).epsilon(1e-12));
  // A plain (ungated) activation reads one and writes one: 2·11008·2.
  s.gated_mlp = false;
  CHECK(kernel_time(k, s) == doctest::Approx(46.032e-6).epsilon(1e-12));
  // KV-cache write reads K and V (2·32·128) and writes them: 2·8192·2 = 32,768 B per token.
  s.op = Operator::kv_write;
  CHECK(kernel_time(k, s) == doctest::Approx(34.768e-6).epsilon(1e-12));
}

TEST_CASE("analytical - decode attention occupancy binds at batch 1 and not at batch 64") {
  GpuCard gpu = round_gpu();
  gpu.sms = 100;
  AnalyticalParams p = round_params();
  p.attention_decode_blocks_per_sm = 1;
  p.attention_decode_occupancy_sharpness = 64;  // hard min(x, 1)
  p.attention_decode_partition = 512;
  const auto model = make_analytical(llama_8b(), gpu, 1, p);
  GpuCard no_sms = gpu;
  no_sms.sms = 0;
  const auto plain = make_analytical(llama_8b(), no_sms, 1, p);
  // Llama-3.1-8B at tp 1: 8 KV heads, K and V of one token in one layer 2·8·128·2 = 4,096 B.
  // Batch 1 after 2,047 tokens: 2,048 KV tokens = 8,388,608 B per layer; 8 · 2048/512 = 32
  // blocks on 100 SMs: occupancy 0.32, the stream takes 8,388,608 / (1e12 · 0.32) = 26.2144 µs.
  // 32 layers · (8 µs floor + 26.2144 µs) = 1,094.8608 µs; without occupancy 32 · (8 + 8.388608).
  BatchShape one;
  one.add(2047, 1, true);
  CHECK(model->breakdown(one).attention == doctest::Approx(1094.8608e-6).epsilon(1e-12));
  CHECK(plain->breakdown(one).attention == doctest::Approx(524.435456e-6).epsilon(1e-12));
  // Batch 64 of the same: 8 · 64 · 4 = 2,048 blocks, x = 20.48, occupancy 1: 536,870,912 B at
  // 1e12 B/s = 536.870912 µs; 32 · (8 + 536.870912) = 17,435.869184 µs, as without occupancy.
  BatchShape many;
  for (int i = 0; i < 64; ++i) many.add(2047, 1, true);
  CHECK(model->breakdown(many).attention == doctest::Approx(17435.869184e-6).epsilon(1e-12));
  CHECK(model->breakdown(many).attention == doctest::Approx(plain->breakdown(many).attention).epsilon(1e-12));
  // The block count comes from the batch's sums, so a decode batch advanced k steps is timed
  // exactly as one built k tokens later (multi-step planning stays exact).
  BatchShape advanced, fresh;
  for (std::uint64_t c : {17u, 900u, 4000u}) advanced.add(c, 1, true);
  for (int j = 0; j < 25; ++j) advanced.advance_decode();
  for (std::uint64_t c : {17u, 900u, 4000u}) fresh.add(c + 25, 1, true);
  CHECK(model->step_time(advanced) == model->step_time(fresh));
}

TEST_CASE("analytical - the memoised decode occupancy: a batch met again is timed as the first time") {
  // Analytical memoises the occupancy by block count; p = 1 keeps both pow() calls nontrivial.
  GpuCard gpu = round_gpu();
  gpu.sms = 100;
  AnalyticalParams p = round_params();
  p.attention_decode_blocks_per_sm = 1;
  p.attention_decode_occupancy_sharpness = 1;  // x / (1 + x)
  p.attention_decode_partition = 512;
  const auto model = make_analytical(llama_8b(), gpu, 1, p);
  // One sequence after 2,047 tokens: 32 blocks, x = 0.32, occupancy 0.32/1.32; the 8,388,608 B
  // per layer take 8.388608 µs / 0.32 · 1.32 = 34.603008 µs; 32 · (8 + 34.603008) = 1,363.296256 µs.
  BatchShape one;
  one.add(2047, 1, true);
  // Two of them: 8 · 4096/512 = 64 blocks, x = 0.64: 16.777216 µs / 0.64 · 1.64 = 42.991616 µs;
  // 32 · (8 + 42.991616) = 1,631.731712 µs.
  BatchShape two;
  two.add(2047, 1, true);
  two.add(2047, 1, true);
  const double first = model->breakdown(one).attention;
  CHECK(first == doctest::Approx(1363.296256e-6).epsilon(1e-12));
  CHECK(model->breakdown(two).attention == doctest::Approx(1631.731712e-6).epsilon(1e-12));
  CHECK(model->breakdown(one).attention == first);
  CHECK(model->breakdown(two).attention == doctest::Approx(1631.731712e-6).epsilon(1e-12));
  // Four sequences after 99 tokens: 400 tokens in 4 sequences, one block per sequence and KV
  // head, 32 blocks as for `one` (counted from the sequences this time): 1,638,400 B take
  // 1.6384 µs / 0.32 · 1.32 = 6.7584 µs; 32 · (8 + 6.7584) = 472.2688 µs.
  BatchShape four;
  for (int i = 0; i < 4; ++i) four.add(99, 1, true);
  CHECK(model->breakdown(four).attention == doctest::Approx(472.2688e-6).epsilon(1e-12));
  CHECK(model->breakdown(four).attention == doctest::Approx(472.2688e-6).epsilon(1e-12));
  CHECK(model->breakdown(one).attention == first);
  // And exactly what the kernel formula gives without the memo.
  const KernelTimes k(gpu, p);
  CHECK(first == 32.0 * k.attention_decode(8388608.0, 32.0));
}

TEST_CASE("analytical - decode attention occupancy knobs out of range are refused") {
  AnalyticalParams p;
  p.attention_decode_partition = 0;
  CHECK_THROWS_AS(make_analytical(llama_8b(), h100(), 1, p), std::invalid_argument);
  p = AnalyticalParams{};
  p.attention_decode_blocks_per_sm = -1;
  CHECK_THROWS_AS(make_analytical(llama_8b(), h100(), 1, p), std::invalid_argument);
  p = AnalyticalParams{};
  p.attention_decode_occupancy_sharpness = 0;
  CHECK_THROWS_AS(make_analytical(llama_8b(), h100(), 1, p), std::invalid_argument);
}
