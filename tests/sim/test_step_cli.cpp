// `kvsim step` through the real binary: JSON fields, a breakdown that sums to the total, the
// batch parsed as documented, and clear errors (exit 2) for malformed batch strings.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>
#include <string>

#include "tests/sim/cli_helpers.hpp"

namespace {

using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

double field(const std::string& json, const std::string& name) {
  const std::regex pattern("\"" + name + "\":(-?[0-9.eE+-]+)");
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(json, m, pattern), "missing field " << name << " in " << json);
  return std::stod(m[1].str());
}

}  // namespace

TEST_CASE("kvsim step --json: fields present and the breakdown sums to the step time") {
  ScratchDir dir;
  const auto r = run_kvsim(dir, {"step", "--set", "model.card=llama-2-70b", "--set", "platform.node=dgx-a100", "--set",
                                 "instances.tp=2", "--set", "instances.count=1", "--prefill", "512+1536x4", "--decode",
                                 "32@1024", "--json"});
  REQUIRE(r.exit_code == 0);
  const double total = field(r.out, "step_s");
  double sum = 0;
  for (const char* part : {"linear", "elementwise", "attention", "kv_write", "allreduce", "lm_head", "overhead"})
    sum += field(r.out, part);
  CHECK(total > 0);
  CHECK(sum == doctest::Approx(total).epsilon(1e-9));
  // 4 chunks of 512 + 32 decodes: 36 sequences, 32 decoding, 2,080 new tokens; pairs
  // 4·(512·1536 + 512·513/2) + 32·1025 = 4·917,760 + 32,800 = 3,703,840.
  CHECK(field(r.out, "seqs") == 36);
  CHECK(field(r.out, "decode_seqs") == 32);
  CHECK(field(r.out, "new_tokens") == 2080);
  CHECK(field(r.out, "attention_pairs") == 3703840);
  CHECK(field(r.out, "tp") == 2);
  CHECK(r.out.find("\"gpu\":\"a100-80gb\"") != std::string::npos);
  CHECK(r.out.find("\"calibration\":\"a100-80gb\"") != std::string::npos);
}

TEST_CASE("kvsim step: --set on `compute` knobs changes exactly their terms") {
  ScratchDir dir;
  const auto base = run_kvsim(dir, {"step", "--decode", "8@512", "--json"});
  const auto more = run_kvsim(dir, {"step", "--decode", "8@512", "--json", "--set", "compute.step_overhead=11ms",
                                    "--set", "compute.overhead_per_seq=1ms", "--set", "compute.overhead_per_token=0"});
  REQUIRE(base.exit_code == 0);
  REQUIRE(more.exit_code == 0);
  // CPU time = 11 ms + 8 sequences x 1 ms = 19 ms; the GPU terms do not move.
  CHECK(field(more.out, "overhead") == doctest::Approx(19e-3).epsilon(1e-9));
  CHECK(field(more.out, "linear") == field(base.out, "linear"));
  CHECK(field(more.out, "attention") == field(base.out, "attention"));
}

TEST_CASE("kvsim step: malformed batch strings are refused with exit 2 and say what is expected") {
  ScratchDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{{"--decode", "32@x"},
                                                                 {"--decode", "32"},
                                                                 {"--prefill", "0"},
                                                                 {"--prefill", "512+abc"},
                                                                 {"--prefill", "512x0"},
                                                                 {"--prefill", "-5"}}) {
    std::vector<std::string> all{"step"};
    all.insert(all.end(), args.begin(), args.end());
    const auto r = run_kvsim(dir, all);
    CAPTURE(args[1]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad batch \"" + args[1] + "\"") != std::string::npos);
  }
  const auto none = run_kvsim(dir, {"step"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("--prefill") != std::string::npos);
}
