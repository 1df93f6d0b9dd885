// Calibration: the bounded least-squares solver, recovery of known knobs from a synthetic
// table generated with them, and the operator-table reader's errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "models/compute/calibration/fit.hpp"
#include "models/compute/calibration/least_squares.hpp"
#include "models/compute/calibration/operator_table.hpp"
#include "models/compute/calibration/vidur_import.hpp"
#include "sim/util/error.hpp"

using namespace kvsim::compute;

TEST_CASE("least squares: an exponential fit reaches the generating parameters") {
  // y = 2·exp(-0.5·x) sampled exactly at x = 0..9; start far away.
  BoxProblem problem;
  problem.lower = {0.1, -5.0};
  problem.upper = {10.0, 5.0};
  problem.residuals = [](const std::vector<double>& p, std::vector<double>& r) {
    r.resize(10);
    for (int i = 0; i < 10; ++i) r[i] = p[0] * std::exp(p[1] * i) - 2.0 * std::exp(-0.5 * i);
  };
  const auto s = solve_box_least_squares(problem, {5.0, 1.0});
  CHECK(s.x[0] == doctest::Approx(2.0).epsilon(1e-6));
  CHECK(s.x[1] == doctest::Approx(-0.5).epsilon(1e-6));
  CHECK(s.cost < 1e-12);
}

TEST_CASE("least squares: a minimum outside the box ends on the bound, the other variable still optimal") {
  // min (x - 3)² + (y - 1)² with x ≤ 2: the answer is (2, 1).
  BoxProblem problem;
  problem.lower = {-10.0, -10.0};
  problem.upper = {2.0, 10.0};
  problem.residuals = [](const std::vector<double>& p, std::vector<double>& r) { r = {p[0] - 3.0, p[1] - 1.0}; };
  const auto s = solve_box_least_squares(problem, {0.0, 0.0});
  CHECK(s.x[0] == 2.0);
  CHECK(s.x[1] == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(s.cost == doctest::Approx(0.5).epsilon(1e-9));
}

TEST_CASE("calibrate fit: knobs used to generate a synthetic table are recovered within 1 %") {
  GpuCard gpu;
  gpu.name = "synthetic";
  gpu.flops = 500e12;
  gpu.hbm_bandwidth = 2.5e12;
  gpu.nvlink_bandwidth = 300e9;
  gpu.sms = 100;
  AnalyticalParams truth;
  truth.flops_efficiency = 0.71;
  truth.hbm_efficiency = 0.83;
  truth.roofline_sharpness = 2.5;
  truth.gemm_floor = 6.5e-6;
  truth.elementwise_efficiency = 0.77;
  truth.elementwise_floor = 3.3e-6;
  truth.rowwise_efficiency = 0.47;
  truth.rowwise_tokens_per_sm = 1.3;
  truth.rowwise_occupancy_sharpness = 3.0;
  truth.attention_prefill_efficiency = 0.31;
  truth.attention_prefill_half_keys = 420;
  truth.attention_prefill_floor = 14e-6;
  truth.attention_decode_efficiency = 0.58;
  truth.attention_decode_floor = 11e-6;
  truth.attention_decode_blocks_per_sm = 0.5;
  truth.attention_decode_occupancy_sharpness = 1.5;
  truth.nvlink_efficiency = 0.55;
  truth.allreduce_latency = 30e-6;
  truth.nvlink_bulk_efficiency = 0.8;
  truth.allreduce_bulk_latency = 90e-6;
  truth.step_overhead = 1.3e-3;
  truth.overhead_per_seq = 45e-6;
  const KernelTimes kernels(gpu, truth);

  std::vector<MeasuredKernel> rows;
  auto add = [&](Operator op, int tp, double tokens, double seqs, double context, double bytes) {
    MeasuredKernel row;
    row.gpu = gpu.name;
    row.shape = {op, 4096, 32, 8, 128, 14336, 32000, 2, true, tp, tokens, seqs, context, bytes};
    row.time = kernel_time(kernels, row.shape);
    rows.push_back(row);
  };
  for (int tp : {1, 2, 4})
    for (double n : {1.0, 4.0, 16.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0}) {
      for (Operator op : {Operator::qkv_proj, Operator::o_proj, Operator::up_proj, Operator::down_proj, Operator::rms_norm,
                          Operator::rope, Operator::act, Operator::add})
        add(op, tp, n, 1, 0, 0);
      add(Operator::attn_prefill, tp, n, 1, 4 * n, 0);
      add(Operator::attn_decode, tp, n, n, 64 * n, 0);
      add(Operator::all_reduce, tp + 1, 0, 0, 0, n * 8192);
      add(Operator::cpu, tp, n, n, 0, 0);
      // Messages up to 512 MiB, so that the bulk protocol wins for some (above ~32 MB here).
      add(Operator::all_reduce, tp + 1, 0, 0, 0, n * 131072);
    }
  // Decode batches whose grids range from a few thread blocks to thousands (occupancy from
  // ~0.03 to ~1), separating the occupancy knobs from the efficiency and the floor.
  for (double seqs : {1.0, 8.0, 64.0})
    for (double context : {256.0, 2048.0, 8192.0}) add(Operator::attn_decode, 2, seqs, seqs, context, 0);
  // blocks_per_sm = 0 means "occupancy off"; a fit of it in log space needs a positive start.
  AnalyticalParams start;
  start.attention_decode_blocks_per_sm = 0.1;
  const auto report = fit_analytical(rows, gpu, start);
  for (const auto& knob : analytical_knobs()) {
    if (std::string(knob.name) == "overhead_per_token") continue;  // not identifiable from decode data
    CAPTURE(knob.name);
    CHECK(report.params.*(knob.member) == doctest::Approx(truth.*(knob.member)).epsilon(0.01));
  }
  CHECK(report.rms_log_error < 1e-6);
}

TEST_CASE("operator table: rows parse, and a bad row names its line and column") {
  const std::string header = kOperatorTableHeader;
  const auto rows = parse_operator_table(
      "# provenance\n" + header + "\na100-80gb,qkv_proj,Llama-2-7b,4096,32,32,128,11008,32000,2,128,1,0,0,55.5,train\n",
      "t.csv");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].shape.op == Operator::qkv_proj);
  CHECK(rows[0].shape.tp == 2);
  CHECK(rows[0].time == doctest::Approx(55.5e-6));
  CHECK(format_operator_row(rows[0]) == "a100-80gb,qkv_proj,Llama-2-7b,4096,32,32,128,11008,32000,2,128,1,0,0,55.5,train");
  try {
    parse_operator_table(header + "\na100-80gb,qkv,M,1,1,1,1,1,1,1,1,1,0,0,1,train\n", "t.csv");
    FAIL("expected an error");
  } catch (const kvsim::InputError& e) {
    CHECK(e.line() == 2);
    CHECK(e.field() == "operator");
  }
  try {
    parse_operator_table(header + "\na100-80gb,cpu,M,0,0,0,0,0,0,1,8,8,0,0,-3,train\n", "t.csv");
    FAIL("expected an error");
  } catch (const kvsim::InputError& e) {
    CHECK(e.field() == "time_us");
  }
}

namespace {
std::string golden(const std::string& name) { return std::string(KVSIM_SOURCE_DIR) + "/tests/golden/" + name; }
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
// import → kvsim CSV text → parse: the same rows.
std::vector<MeasuredKernel> round_trip(const std::vector<MeasuredKernel>& rows) {
  std::string text = std::string(kOperatorTableHeader) + "\n";
  for (const auto& r : rows) text += format_operator_row(r) + "\n";
  return parse_operator_table(text, "round-trip");
}
}  // namespace

TEST_CASE("vidur import: an mlp.csv slice becomes kvsim rows with Vidur's medians, and round-trips") {
  const auto imported = import_vidur_csv(slurp(golden("vidur_mlp_sample.csv")), "mlp", "a100-80gb", "Llama-2-7b");
  CHECK(imported.kind == "mlp");
  REQUIRE(imported.rows.size() == 4 * 8);  // 4 rows x 8 operators
  // First fixture row: Llama-2-7b (4096 hidden, 32 heads, 11008 MLP), 128 tokens at TP 1;
  // attn_pre_proj median 0.0745 ms, input_layernorm 0.005 ms (read off the fixture).
  const auto& qkv = imported.rows[0];
  CHECK(qkv.shape.op == Operator::qkv_proj);
  CHECK(qkv.shape.hidden == 4096);
  CHECK(qkv.shape.head_dim == 128);
  CHECK(qkv.shape.intermediate == 11008);
  CHECK(qkv.shape.tokens == 128);
  CHECK(qkv.shape.tp == 1);
  CHECK(qkv.time == doctest::Approx(74.5e-6).epsilon(1e-9));
  CHECK(imported.rows[4].shape.op == Operator::rms_norm);
  CHECK(imported.rows[4].time == doctest::Approx(5e-6).epsilon(1e-9));
  const auto back = round_trip(imported.rows);
  REQUIRE(back.size() == imported.rows.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    CHECK(back[i].shape.op == imported.rows[i].shape.op);
    CHECK(back[i].shape.tokens == imported.rows[i].shape.tokens);
    CHECK(back[i].shape.tp == imported.rows[i].shape.tp);
    CHECK(back[i].time == doctest::Approx(imported.rows[i].time).epsilon(1e-12));
  }
}

TEST_CASE("vidur import: attention and all-reduce slices, cross-node all-reduces counted and not imported") {
  const auto att = import_vidur_csv(slurp(golden("vidur_attention_sample.csv")), "att", "a100-80gb", "");
  REQUIRE(att.rows.size() == 4);
  // Decode, batch 1 after 32 tokens: 0.015 ms; prefill chunk of 64 after 32 cached: 0.015 ms.
  CHECK(att.rows[0].shape.op == Operator::attn_decode);
  CHECK(att.rows[0].shape.seqs == 1);
  CHECK(att.rows[0].shape.context == 32);
  CHECK(att.rows[3].shape.op == Operator::attn_prefill);
  CHECK(att.rows[3].shape.tokens == 64);
  CHECK(att.rows[3].shape.context == 32);
  CHECK(att.rows[3].time == doctest::Approx(15e-6).epsilon(1e-9));
  CHECK(round_trip(att.rows).size() == 4);
  const auto ar = import_vidur_csv(slurp(golden("vidur_all_reduce_sample.csv")), "ar", "a100-80gb", "");
  REQUIRE(ar.rows.size() == 3);
  CHECK(ar.rows[1].shape.bytes == 10240);
  CHECK(ar.rows[1].time == doctest::Approx(46e-6).epsilon(1e-9));
  // The same header with a row spanning two nodes (devices_per_node 1 of 2 workers).
  const std::string cross = slurp(golden("vidur_all_reduce_sample.csv")).substr(
                                0, slurp(golden("vidur_all_reduce_sample.csv")).find('\n') + 1) +
                            "0,0.1,0.1,0.1,0.1,0,0,2,2048,all_reduce,1,8\n";
  const auto skipped = import_vidur_csv(cross, "ar2", "a100-80gb", "");
  CHECK(skipped.rows.empty());
  CHECK(skipped.skipped == 1);
  CHECK_THROWS_AS(import_vidur_csv("a,b\n1,2\n", "bad", "a100-80gb", ""), kvsim::InputError);
}

TEST_CASE("shipped measured-operator table: one row per measured shape, so no shape counts twice in the fit") {
  // Vidur's profiles measure some shapes twice (overlapping grids); the table keeps their
  // median once. Key = every column but time_us and split (split follows from the shape).
  const auto rows = read_operator_table(std::string(KVSIM_SOURCE_DIR) + "/models/compute/calibration/measured_operators.csv");
  REQUIRE(rows.size() > 10000);
  std::map<std::string, long> first_line;
  std::size_t repeats = 0;
  for (const auto& row : rows) {
    std::string key = format_operator_row(row);
    key.erase(key.rfind(','));  // split
    key.erase(key.rfind(','));  // time_us
    const auto [at, inserted] = first_line.emplace(key, row.line);
    if (!inserted) {
      ++repeats;
      if (repeats <= 3) MESSAGE("line " << row.line << " repeats line " << at->second << ": " << key);
    }
  }
  CHECK(repeats == 0);
}
