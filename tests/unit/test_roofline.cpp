// Known-answer tests of the roofline step-time model (models/compute/roofline.cpp) and of
// the parameter counts of ModelCard (models/compute/model_card.cpp). Every expected value is
// derived by hand in the comments from the published architecture of Llama-3.1-8B/70B (Hugging
// Face config.json) and the NVIDIA H100 SXM datasheet; the cards are built here, not read
// from the TOML files, so these tests pin the arithmetic and nothing else.
#include <doctest/doctest.h>

#include <stdexcept>

#include "models/compute/perf_model.hpp"

using kvsim::compute::BatchShape;
using kvsim::compute::GpuCard;
using kvsim::compute::make_roofline;
using kvsim::compute::ModelCard;
using kvsim::compute::RooflineParams;
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

// The documented defaults, written out so that a change of the header's defaults does not
// silently change these known answers.
RooflineParams explicit_defaults() {
  RooflineParams p;
  p.flops_efficiency = 0.6;
  p.attention_efficiency = 0.5;
  p.hbm_efficiency = 0.8;
  p.nvlink_efficiency = 0.7;
  p.allreduce_latency = 5e-6;
  p.step_overhead = 2e-3;
  return p;
}

// Achieved rates on one H100 SXM with those efficiencies:
//   GEMM      989e12 × 0.6 = 5.934e14 FLOP/s
//   attention 989e12 × 0.5 = 4.945e14 FLOP/s
//   HBM       3.35e12 × 0.8 = 2.68e12 B/s
//   NVLink    450e9 × 0.7   = 3.15e11 B/s
constexpr double gemm_rate = 989e12 * 0.6;
constexpr double attention_rate = 989e12 * 0.5;
constexpr double hbm_rate = 3.35e12 * 0.8;
constexpr double nvlink_rate = 450e9 * 0.7;
constexpr double overhead = 2e-3;

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

BatchShape prefill_1024() {
  BatchShape b;
  b.add(0, 1024, true);
  return b;
}

BatchShape decode_32_at_2048() {
  BatchShape b;
  for (int i = 0; i < 32; ++i) b.add(2048, 1, true);
  return b;
}

void check_fields(const StepBreakdown& got, const StepBreakdown& want) {
  CHECK(got.linear == doctest::Approx(want.linear).epsilon(1e-9));
  CHECK(got.attention == doctest::Approx(want.attention).epsilon(1e-9));
  CHECK(got.kv_write == doctest::Approx(want.kv_write).epsilon(1e-9));
  CHECK(got.allreduce == doctest::Approx(want.allreduce).epsilon(1e-9));
  CHECK(got.lm_head == doctest::Approx(want.lm_head).epsilon(1e-9));
  CHECK(got.overhead == doctest::Approx(want.overhead).epsilon(1e-9));
  CHECK(got.total() == doctest::Approx(want.total()).epsilon(1e-9));
}

}  // namespace

TEST_CASE("roofline - parameter and byte counts of llama-3.1-8b and llama-3.1-70b") {
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

TEST_CASE("roofline - classic MLP and tied embeddings change the parameter count") {
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

TEST_CASE("roofline - BatchShape sums a mixed batch") {
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

TEST_CASE("roofline - llama-3.1-8b prefill of 1024 tokens on h100-sxm") {
  // One sequence, prior context 0, chunk 1024, samples its first token:
  //   new_tokens 1024, num_logits 1, attention_pairs 1024·1025/2 = 524,800, context 1024.
  //
  // linear:    F = 2 × 1024 × 6,979,321,856 = 14,293,651,161,088 → /5.934e14 = 24.088 ms
  //            B = 6,979,321,856 × 2 = 13,958,643,712         → /2.68e12  =  5.208 ms
  //            compute-bound.
  // lm_head:   F = 2 × 1 × 525,336,576 = 1,050,673,152        → /5.934e14 = 1.771 µs
  //            B = 525,336,576 × 2 = 1,050,673,152            → /2.68e12  = 392.04 µs
  //            memory-bound.
  // attention: F = 4 × 524,800 × 32 × 128 × 32 = 275,146,342,400 → /4.945e14 = 556.41 µs
  //            B = 1024 × 131,072 = 134,217,728                 → /2.68e12  =  50.08 µs
  //            compute-bound.
  // kv_write:  B = 1024 × 131,072 = 134,217,728 → 50.08 µs.  allreduce: 0 (tp = 1).
  // total ≈ 24.088 + 0.392 + 0.556 + 0.050 + 2 = 27.086 ms.
  const auto model = make_roofline(llama_8b(), h100(), 1, explicit_defaults());
  StepBreakdown want;
  want.linear = 14'293'651'161'088.0 / gemm_rate;
  want.lm_head = 1'050'673'152.0 / hbm_rate;
  want.attention = 275'146'342'400.0 / attention_rate;
  want.kv_write = 134'217'728.0 / hbm_rate;
  want.allreduce = 0.0;
  want.overhead = overhead;
  check_fields(model->breakdown(prefill_1024()), want);
  CHECK(model->step_time(prefill_1024()) == doctest::Approx(0.02708625351318876).epsilon(1e-9));
}

TEST_CASE("roofline - llama-3.1-70b prefill of 1024 tokens on h100-sxm") {
  // linear:    F = 2 × 1024 × 68,451,041,280 = 140,187,732,541,440 → /5.934e14 = 236.245 ms
  //            B = 136,902,082,560 → /2.68e12 = 51.083 ms; compute-bound.
  // lm_head:   F = 2 × 1,050,673,152 = 2,101,346,304 → 3.541 µs
  //            B = 2,101,346,304 → 784.08 µs; memory-bound.
  // attention: F = 4 × 524,800 × 64 × 128 × 80 = 1,375,731,712,000 → /4.945e14 = 2.782 ms
  //            B = 1024 × 327,680 = 335,544,320 → 125.20 µs; compute-bound.
  // kv_write:  335,544,320 B → 125.20 µs.
  // total ≈ 236.245 + 0.784 + 2.782 + 0.125 + 2 = 241.936 ms.
  const auto model = make_roofline(llama_70b(), h100(), 1, explicit_defaults());
  StepBreakdown want;
  want.linear = 140'187'732'541'440.0 / gemm_rate;
  want.lm_head = 2'101'346'304.0 / hbm_rate;
  want.attention = 1'375'731'712'000.0 / attention_rate;
  want.kv_write = 335'544'320.0 / hbm_rate;
  want.overhead = overhead;
  check_fields(model->breakdown(prefill_1024()), want);
  CHECK(model->step_time(prefill_1024()) == doctest::Approx(0.24193626866497442).epsilon(1e-9));
}

TEST_CASE("roofline - llama-3.1-8b decode of 32 sequences at 2048 context on h100-sxm") {
  // 32 sequences, each p = 2048, c = 1, sampling:
  //   new_tokens 32, num_logits 32, attention_pairs 32 × (2048 + 1) = 65,568,
  //   context_tokens 32 × 2049 = 65,568.
  //
  // linear:    F = 2 × 32 × 6,979,321,856 = 446,676,598,784 → /5.934e14 = 752.74 µs
  //            B = 13,958,643,712 → /2.68e12 = 5.208 ms; memory-bound (weights dominate).
  // lm_head:   F = 2 × 32 × 525,336,576 = 33,621,540,864 → 56.66 µs
  //            B = 1,050,673,152 → 392.04 µs; memory-bound.
  // attention: F = 4 × 65,568 × 32 × 128 × 32 = 34,376,515,584 → /4.945e14 = 69.52 µs
  //            B = 65,568 × 131,072 = 8,594,128,896 → /2.68e12 = 3.207 ms; memory-bound.
  // kv_write:  B = 32 × 131,072 = 4,194,304 → 1.565 µs.
  // total ≈ 5.208 + 0.392 + 3.207 + 0.002 + 2 = 10.809 ms.
  const auto model = make_roofline(llama_8b(), h100(), 1, explicit_defaults());
  StepBreakdown want;
  want.linear = 13'958'643'712.0 / hbm_rate;
  want.lm_head = 1'050'673'152.0 / hbm_rate;
  want.attention = 8'594'128'896.0 / hbm_rate;
  want.kv_write = 4'194'304.0 / hbm_rate;
  want.overhead = overhead;
  check_fields(model->breakdown(decode_32_at_2048()), want);
  CHECK(model->step_time(decode_32_at_2048()) ==
        doctest::Approx(0.010808820919402986).epsilon(1e-9));
}

TEST_CASE("roofline - llama-3.1-70b decode of 32 sequences at 2048 context on h100-sxm") {
  // linear:    F = 2 × 32 × 68,451,041,280 = 4,380,866,641,920 → 7.383 ms
  //            B = 136,902,082,560 → 51.083 ms; memory-bound.
  // lm_head:   F = 67,243,081,728 → 113.3 µs; B = 2,101,346,304 → 784.08 µs; memory-bound.
  // attention: F = 4 × 65,568 × 64 × 128 × 80 = 171,882,577,920 → 347.6 µs
  //            B = 65,568 × 327,680 = 21,485,322,240 → 8.017 ms; memory-bound.
  // kv_write:  B = 32 × 327,680 = 10,485,760 → 3.913 µs.
  // total ≈ 51.083 + 0.784 + 8.017 + 0.004 + 2 = 61.888 ms.
  const auto model = make_roofline(llama_70b(), h100(), 1, explicit_defaults());
  StepBreakdown want;
  want.linear = 136'902'082'560.0 / hbm_rate;
  want.lm_head = 2'101'346'304.0 / hbm_rate;
  want.attention = 21'485'322'240.0 / hbm_rate;
  want.kv_write = 10'485'760.0 / hbm_rate;
  want.overhead = overhead;
  check_fields(model->breakdown(decode_32_at_2048()), want);
  CHECK(model->step_time(decode_32_at_2048()) ==
        doctest::Approx(0.06188777494925374).epsilon(1e-9));
}

TEST_CASE("roofline - llama-3.1-70b tensor parallel 2 and 4 on h100-sxm") {
  // Every per-GPU FLOP and byte count is the tp = 1 one divided by tp; the all-reduce is
  //   2 × layers × (2(tp−1)/tp × M / 3.15e11 + 5 µs), M = new_tokens × 8192 × 2 B.
  //
  // Decode, 32 sequences: M = 32 × 8192 × 2 = 524,288 B.
  //   tp = 2: 2(1)/2 = 1   → 524,288 / 3.15e11 = 1.6644 µs; + 5 µs = 6.6644 µs
  //           × 160 calls = 1.06631 ms
  //   tp = 4: 2(3)/4 = 1.5 → 786,432 / 3.15e11 = 2.4966 µs; + 5 µs = 7.4966 µs
  //           × 160 calls = 1.19946 ms
  // Prefill, 1024 tokens: M = 1024 × 8192 × 2 = 16,777,216 B.
  //   tp = 2: 16,777,216 / 3.15e11 = 53.261 µs + 5 µs → × 160 = 9.32176 ms
  //   tp = 4: 1.5 × 16,777,216 = 25,165,824 / 3.15e11 = 79.892 µs + 5 µs → × 160 = 13.58264 ms
  const RooflineParams params = explicit_defaults();
  const auto tp2 = make_roofline(llama_70b(), h100(), 2, params);
  const auto tp4 = make_roofline(llama_70b(), h100(), 4, params);

  SUBCASE("decode") {
    const double m = 524'288.0;
    // tp = 2, all memory-bound, bytes halved:
    //   linear 68,451,041,280 B, lm_head 1,050,673,152 B, attention 10,742,661,120 B,
    //   kv_write 5,242,880 B.
    StepBreakdown want2;
    want2.linear = 68'451'041'280.0 / hbm_rate;
    want2.lm_head = 1'050'673'152.0 / hbm_rate;
    want2.attention = 10'742'661'120.0 / hbm_rate;
    want2.kv_write = 5'242'880.0 / hbm_rate;
    want2.allreduce = 2.0 * 80 * (1.0 * m / nvlink_rate + 5e-6);
    want2.overhead = overhead;
    check_fields(tp2->breakdown(decode_32_at_2048()), want2);
    CHECK(want2.allreduce == doctest::Approx(1.0663050158730158e-3).epsilon(1e-9));

    // tp = 4: bytes quartered: 34,225,520,640 / 525,336,576 / 5,371,330,560 / 2,621,440 B.
    StepBreakdown want4;
    want4.linear = 34'225'520'640.0 / hbm_rate;
    want4.lm_head = 525'336'576.0 / hbm_rate;
    want4.attention = 5'371'330'560.0 / hbm_rate;
    want4.kv_write = 2'621'440.0 / hbm_rate;
    want4.allreduce = 2.0 * 80 * (1.5 * m / nvlink_rate + 5e-6);
    want4.overhead = overhead;
    check_fields(tp4->breakdown(decode_32_at_2048()), want4);
    CHECK(want4.allreduce == doctest::Approx(1.1994575238095239e-3).epsilon(1e-9));
  }

  SUBCASE("prefill") {
    const double m = 16'777'216.0;
    // tp = 2: linear F 70,093,866,270,720 (compute-bound, 118.12 ms vs 25.54 ms),
    //         lm_head B 1,050,673,152 (memory-bound),
    //         attention F 687,865,856,000 (compute-bound, 1.391 ms vs 62.6 µs),
    //         kv_write B 167,772,160.
    StepBreakdown want2;
    want2.linear = 70'093'866'270'720.0 / gemm_rate;
    want2.lm_head = 1'050'673'152.0 / hbm_rate;
    want2.attention = 687'865'856'000.0 / attention_rate;
    want2.kv_write = 167'772'160.0 / hbm_rate;
    want2.allreduce = 2.0 * 80 * (1.0 * m / nvlink_rate + 5e-6);
    want2.overhead = overhead;
    check_fields(tp2->breakdown(prefill_1024()), want2);
    CHECK(want2.allreduce == doctest::Approx(9.321760507936507e-3).epsilon(1e-9));

    // tp = 4: linear F 35,046,933,135,360; lm_head B 525,336,576; attention F 343,932,928,000;
    //         kv_write B 83,886,080.
    StepBreakdown want4;
    want4.linear = 35'046'933'135'360.0 / gemm_rate;
    want4.lm_head = 525'336'576.0 / hbm_rate;
    want4.attention = 343'932'928'000.0 / attention_rate;
    want4.kv_write = 83'886'080.0 / hbm_rate;
    want4.allreduce = 2.0 * 80 * (1.5 * m / nvlink_rate + 5e-6);
    want4.overhead = overhead;
    check_fields(tp4->breakdown(prefill_1024()), want4);
    CHECK(want4.allreduce == doctest::Approx(13.582640761904761e-3).epsilon(1e-9));
  }

  SUBCASE("all-reduce scales with the efficiency and latency knobs") {
    // nvlink_efficiency 0.5 and 10 µs per call, tp = 2 decode:
    //   160 × (524,288 / (450e9 × 0.5) + 10 µs) = 160 × (2.33017 µs + 10 µs) = 1.97283 ms
    RooflineParams slow = params;
    slow.nvlink_efficiency = 0.5;
    slow.allreduce_latency = 10e-6;
    const auto model = make_roofline(llama_70b(), h100(), 2, slow);
    CHECK(model->breakdown(decode_32_at_2048()).allreduce ==
          doctest::Approx(160.0 * (524'288.0 / 225e9 + 10e-6)).epsilon(1e-9));
  }
}

TEST_CASE("roofline - advance_decode equals rebuilding the batch with one more token of context") {
  BatchShape stepped = decode_32_at_2048();
  stepped.advance_decode();
  BatchShape rebuilt;
  for (int i = 0; i < 32; ++i) rebuilt.add(2049, 1, true);
  CHECK(stepped.num_seqs == rebuilt.num_seqs);
  CHECK(stepped.num_logits == rebuilt.num_logits);
  CHECK(stepped.new_tokens == rebuilt.new_tokens);
  // 32 × 2050 = 65,600 pairs and KV tokens.
  CHECK(stepped.attention_pairs == doctest::Approx(65'600.0).epsilon(1e-9));
  CHECK(stepped.context_tokens == doctest::Approx(65'600.0).epsilon(1e-9));
  CHECK(stepped.attention_pairs == doctest::Approx(rebuilt.attention_pairs).epsilon(1e-9));
  CHECK(stepped.context_tokens == doctest::Approx(rebuilt.context_tokens).epsilon(1e-9));

  // Ten more steps of a batch with mixed contexts: {10, 500, 4000} → {21, 511, 4011}.
  BatchShape mixed;
  mixed.add(10, 1, true);
  mixed.add(500, 1, true);
  mixed.add(4000, 1, true);
  for (int i = 0; i < 11; ++i) mixed.advance_decode();
  BatchShape later;
  later.add(21, 1, true);
  later.add(511, 1, true);
  later.add(4011, 1, true);
  CHECK(mixed.attention_pairs == doctest::Approx(later.attention_pairs).epsilon(1e-9));
  CHECK(mixed.context_tokens == doctest::Approx(later.context_tokens).epsilon(1e-9));

  const auto model = make_roofline(llama_8b(), h100(), 1, explicit_defaults());
  CHECK(model->step_time(stepped) == doctest::Approx(model->step_time(rebuilt)).epsilon(1e-9));
  CHECK(model->step_time(stepped) > model->step_time(decode_32_at_2048()));
}

TEST_CASE("roofline - an empty batch takes no time") {
  const auto model = make_roofline(llama_8b(), h100(), 1, explicit_defaults());
  const BatchShape empty;
  CHECK(model->step_time(empty) == 0.0);
  CHECK(model->breakdown(empty).total() == 0.0);
}

TEST_CASE("roofline - invalid tensor-parallel degrees are rejected") {
  const RooflineParams params = explicit_defaults();
  CHECK_THROWS_AS(make_roofline(llama_70b(), h100(), 0, params), std::invalid_argument);
  CHECK_THROWS_AS(make_roofline(llama_70b(), h100(), -2, params), std::invalid_argument);
  // 64 heads are not divisible by 3.
  CHECK_THROWS_AS(make_roofline(llama_70b(), h100(), 3, params), std::invalid_argument);
  // 64 heads split 16 ways, but 8 KV heads do not.
  CHECK_THROWS_AS(make_roofline(llama_70b(), h100(), 16, params), std::invalid_argument);
  CHECK_NOTHROW(make_roofline(llama_70b(), h100(), 8, params));
  // The message names the offending numbers.
  CHECK_THROWS_WITH_AS(make_roofline(llama_70b(), h100(), 16, params),
                       doctest::Contains("8 KV heads"), std::invalid_argument);
}

TEST_CASE("roofline - efficiencies outside 0 < e <= 1 are rejected") {
  RooflineParams params = explicit_defaults();
  params.hbm_efficiency = 0.0;
  CHECK_THROWS_AS(make_roofline(llama_8b(), h100(), 1, params), std::invalid_argument);
  params = explicit_defaults();
  params.flops_efficiency = 1.5;
  CHECK_THROWS_AS(make_roofline(llama_8b(), h100(), 1, params), std::invalid_argument);
}
