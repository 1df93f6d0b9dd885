// kvsim report through the real binary: round trips against `kvsim run --json` (the file
// read back gives exactly the summary the run printed), a comparison's differences against
// hand arithmetic on the two runs' own figures, and unreadable files as input errors.
#include <cmath>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "tests/sim/cli_helpers.hpp"

using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {
// The number after `key` in text, starting the search at `from`; NaN when absent.
double number_after(const std::string& text, const std::string& key, std::size_t from = 0) {
  const auto at = text.find(key, from);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}
std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}
}  // namespace

TEST_CASE("report: one file read back gives exactly the summary the run printed") {
  ScratchDir dir;
  const auto run = run_kvsim(dir, {"run", "--quiet", "--json", "-o", "a.h5", "--set", "workload.num_requests=200",
                                   "--slo", "ttft.p99=50ms", "--slo", "e2e.mean=1s", "--set", "run.warmup=5s"});
  REQUIRE(run.exit_code == 0);
  const auto report = run_kvsim(dir, {"report", "a.h5", "--json"});
  REQUIRE(report.exit_code == 0);
  CHECK(report.out.find("{\"file\":\"a.h5\",\"seed\":1,") == 0);
  CHECK(report.out.find("\"summary\":" + trimmed(run.out) + "}") != std::string::npos);

  const auto table = run_kvsim(dir, {"report", "a.h5"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("file          a.h5   seed 1") != std::string::npos);
  CHECK(table.out.find("  ttft.p99    limit       50.000 ms") != std::string::npos);
  CHECK(table.out.find("window        ") != std::string::npos);
  CHECK(table.out.find("load          stable") != std::string::npos);
}

TEST_CASE("report: two files side by side with absolute and relative differences") {
  ScratchDir dir;
  const auto a = run_kvsim(dir, {"run", "--quiet", "--json", "-o", "a.h5", "--set", "workload.num_requests=200",
                                 "--slo", "ttft.p99=1s"});
  const auto b = run_kvsim(dir, {"run", "--quiet", "--json", "-o", "b.h5", "--set", "workload.num_requests=200",
                                 "--slo", "ttft.p99=1s", "--set", "instances.count=2"});
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  const auto report = run_kvsim(dir, {"report", "a.h5", "b.h5", "--json"});
  REQUIRE(report.exit_code == 0);
  for (const std::string field : {"throughput_rps", "sim_duration"}) {
    const double va = number_after(a.out, "\"" + field + "\":");
    const double vb = number_after(b.out, "\"" + field + "\":");
    const auto entry = report.out.find("\"differences\":");
    const auto at = report.out.find("\"" + field + "\":{\"unit\":", entry);
    REQUIRE_MESSAGE(at != std::string::npos, field);
    CHECK(number_after(report.out, "\"values\":[", at) == va);
    CHECK(number_after(report.out, "\"abs\":[", at) == vb - va);
    CHECK(number_after(report.out, "\"rel\":[", at) == doctest::Approx((vb - va) / std::fabs(va)).epsilon(1e-12));
  }
  // The SLO bound both runs share is compared on its measured value.
  const double pa = number_after(a.out, "\"name\":\"ttft.p99\",\"limit\":1,\"measured\":");
  const double pb = number_after(b.out, "\"name\":\"ttft.p99\",\"limit\":1,\"measured\":");
  const auto at = report.out.find("\"slo.ttft.p99.measured\":{\"unit\":\"s\"");
  REQUIRE(at != std::string::npos);
  CHECK(number_after(report.out, "\"abs\":[", at) == pb - pa);

  const auto table = run_kvsim(dir, {"report", "a.h5", "b.h5"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("  [2] b.h5   seed 1") != std::string::npos);
  CHECK(table.out.find("\nrejected ") != std::string::npos);
}

TEST_CASE("report: a missing or non-HDF5 file is an input error naming it") {
  ScratchDir dir;
  dir.write("text.h5", "not hdf5\n");
  auto r = run_kvsim(dir, {"report", "missing.h5"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing.h5: no such results file") != std::string::npos);
  r = run_kvsim(dir, {"report", "text.h5"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("text.h5: not an HDF5 file") != std::string::npos);
  r = run_kvsim(dir, {"report"});
  CHECK(r.exit_code == 2);
}
