// The measured-profile step-time model (models/compute/profile.cpp) and its interpolation
// (profile_curve.cpp): measured values at measured points, values between neighbours
// elsewhere, extrapolation along the analytical shape, and a step summed like analytical's.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "models/compute/calibration/operator_table.hpp"
#include "models/compute/perf_model.hpp"
#include "models/compute/profile_curve.hpp"

using namespace kvsim::compute;

TEST_CASE("profile curve: exact at measured points, linear between, shape-scaled outside") {
  const ProfileCurve curve({{20, 3.0}, {10, 1.0}, {40, 5.0}, {40, 7.0}}, [](double x) { return x; });
  CHECK(curve.at(10) == 1.0);
  CHECK(curve.at(20) == 3.0);
  CHECK(curve.at(40) == 6.0);  // two measurements at 40 are averaged
  CHECK(curve.at(15) == doctest::Approx(2.0));
  CHECK(curve.at(30) == doctest::Approx(4.5));
  for (double x : {11.0, 17.0, 25.0, 39.0}) {
    CHECK(curve.at(x) > (x < 20 ? 1.0 : 3.0));
    CHECK(curve.at(x) < (x < 20 ? 3.0 : 6.0));
  }
  // Outside: the edge value scaled by shape(x) / shape(edge): 6 · 80/40 and 1 · 5/10.
  CHECK(curve.at(80) == doctest::Approx(12.0));
  CHECK(curve.at(5) == doctest::Approx(0.5));
  CHECK_FALSE(curve.inside(80));
}

TEST_CASE("profile model: a step at measured token counts sums the measured kernels") {
  const auto dir = std::filesystem::temp_directory_path() / "kvsim_profile_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "profile.csv").string();
  {
    std::ofstream out(path);
    out << kOperatorTableHeader << "\n";
    // Geometry of the model below; times in µs at 16 and 64 tokens.
    const char* geometry = "tiny,1024,8,8,128,4096,32000,1,";
    for (const auto& [op, t16, t64] : std::vector<std::tuple<std::string, double, double>>{
             {"qkv_proj", 10, 30}, {"o_proj", 5, 15}, {"up_proj", 20, 60}, {"down_proj", 10, 30}})
      out << "gpu-x," << op << "," << geometry << "16,1,0,0," << t16 << ",train\n"
          << "gpu-x," << op << "," << geometry << "64,1,0,0," << t64 << ",train\n";
    out << "other-gpu,qkv_proj," << geometry << "16,1,0,0,999,train\n";  // another GPU: ignored
  }
  ModelCard m;
  m.name = "tiny";
  m.layers = 4;
  m.hidden = 1024;
  m.heads = 8;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.intermediate = 4096;
  m.vocab = 32000;
  GpuCard g;
  g.name = "gpu-x";
  g.flops = 1e15;
  g.hbm_bandwidth = 1e12;
  g.nvlink_bandwidth = 1e11;
  ComputeSpec spec;
  spec.model = "profile";
  spec.profile_tables = {path};
  const auto model = make_step_time_model(m, g, 1, spec);
  BatchShape at16, at40;
  for (int i = 0; i < 16; ++i) at16.add(100, 1, true);
  for (int i = 0; i < 40; ++i) at40.add(100, 1, true);
  // 4 layers x (10 + 5 + 20 + 10) µs = 180 µs at 16 tokens.
  CHECK(model->breakdown(at16).linear == doctest::Approx(180e-6).epsilon(1e-12));
  // 40 tokens: halfway between 16 and 64 → 4 x (20 + 10 + 40 + 20) µs = 360 µs.
  CHECK(model->breakdown(at40).linear == doctest::Approx(360e-6).epsilon(1e-12));
  // Operators without rows come from the analytical model with the same knobs.
  const auto analytical = make_analytical(m, g, 1, spec.params);
  CHECK(model->breakdown(at16).attention == analytical->breakdown(at16).attention);
  CHECK(model->breakdown(at16).lm_head == analytical->breakdown(at16).lm_head);
  spec.profile_tables.clear();
  CHECK_THROWS_AS(make_step_time_model(m, g, 1, spec), std::invalid_argument);
  std::filesystem::remove_all(dir);
}
