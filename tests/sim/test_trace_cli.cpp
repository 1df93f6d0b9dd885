// Traces through the real binary: `kvsim trace convert` between formats (counts, block size,
// errors), and `kvsim run` replaying a trace named in the [workload] section (the real
// Mooncake and Azure samples in tests/golden/), with the request count checked in the JSON
// summary and the section's rules (trace excludes generator, trace keys need a trace).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/sim/cli_helpers.hpp"

using kvsim::test::CliResult;
using kvsim::test::read_text;
using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string golden(const std::string& name) { return std::string(KVSIM_SOURCE_DIR) + "/tests/golden/" + name; }

// A failing command: exit status 2, one "kvsim: error:" line, nothing on stdout.
CliResult expect_trace_error(const ScratchDir& dir, const std::vector<std::string>& args) {
  CliResult r = run_kvsim(dir, args);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("kvsim: error: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  return r;
}

// A small scenario replaying `trace` (a path relative to the config file).
std::string trace_config(const ScratchDir& dir, const std::string& trace, const std::string& extra = "") {
  return dir.write("scenario.toml",
                   "[run]\nname = \"trace\"\n\n"
                   "[instances]\ncount = 2\n\n"
                   "[workload]\ntrace = \"" +
                       trace + "\"\n" + extra + "\n[output]\npath = \"\"\n");
}

}  // namespace

TEST_CASE("trace cli: convert mooncake to kvsim keeps the trace's block size and every request") {
  ScratchDir dir;
  const std::string out = dir.file("m.kvsim.jsonl");
  const CliResult r = run_kvsim(dir, {"trace", "convert", golden("mooncake_sample.jsonl"), "-o", out, "--to", "kvsim"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "wrote 40 requests to " + out + " (kvsim, block size 512)\n");
  const std::string text = read_text(out);
  // Categories are named as they are met, so the streamed header lists none yet.
  CHECK(text.starts_with(R"({"format": "kvsim", "version": 1, "block_size": 512, "categories": []})"));
  CHECK(has(text, R"("type": "mooncake")"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 41);
  // The first request's 79 prefix hashes 0..78 are kept as they are.
  CHECK(has(text, R"("input_tokens": 40160, "output_tokens": 6, "priority": 0, "think_time": -1, "blocks": [0, 1, 2,)"));

  // Back to Mooncake at 16-token blocks, with a limit: 40160 tokens = 2510 blocks.
  const std::string back = dir.file("m16.jsonl");
  const CliResult b =
      run_kvsim(dir, {"trace", "convert", out, "-o", back, "--to", "mooncake", "--block-size", "16", "--limit", "2"});
  REQUIRE(b.exit_code == 0);
  CHECK(b.out == "wrote 2 requests to " + back + " (mooncake, block size 16)\n");
  const std::string m = read_text(back);
  const std::string first = m.substr(0, m.find('\n'));
  CHECK(first.starts_with(R"({"timestamp": 0, "input_length": 40160, "output_length": 6, "hash_ids": [)"));
  CHECK(std::count(first.begin(), first.end(), ',') == 3 + 2509);
}

TEST_CASE("trace cli: convert reports skipped lines, and refuses bad arguments and paths") {
  ScratchDir dir;
  const std::string trace = dir.write("t.csv",
                                      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                      "2023-11-16 18:15:46.6805900,374,44\n"
                                      "2023-11-16 18:15:47,-3,44\n"
                                      "2023-11-16 18:15:48,10,4\n");
  const CliResult ok =
      run_kvsim(dir, {"trace", "convert", trace, "-o", dir.file("t.jsonl"), "--to", "kvsim", "--skip-bad-lines"});
  REQUIRE(ok.exit_code == 0);
  CHECK(has(ok.out, "wrote 2 requests"));
  CHECK(has(ok.out, "(kvsim, block size 16); bad_lines: 1"));

  const CliResult bad = expect_trace_error(dir, {"trace", "convert", trace, "-o", dir.file("u.jsonl"), "--to", "kvsim"});
  CHECK(has(bad.err, trace + ":3: ContextTokens: expected a non-negative token count, got -3"));
  CHECK_FALSE(std::filesystem::exists(dir.file("u.jsonl")));
  CHECK_FALSE(std::filesystem::exists(dir.file("u.jsonl.partial")));

  const CliResult to = expect_trace_error(dir, {"trace", "convert", trace, "-o", dir.file("v"), "--to", "azure"});
  CHECK(has(to.err, "cannot write trace format \"azure\" (writable: kvsim, bailian, mooncake)"));
  const CliResult path =
      expect_trace_error(dir, {"trace", "convert", trace, "-o", dir.file("no/dir/x.jsonl"), "--to", "kvsim"});
  CHECK(has(path.err, "cannot write the trace"));
  const CliResult format =
      expect_trace_error(dir, {"trace", "convert", trace, "-o", dir.file("w"), "--to", "kvsim", "--format", "csv"});
  CHECK(has(format.err, "format: unknown trace format \"csv\""));
  CHECK(has(expect_trace_error(dir, {"trace", "convert", trace, "--to", "kvsim"}).err, "expected -o OUT"));
}

TEST_CASE("trace cli: run replays the Mooncake and Azure samples named in the workload section") {
  ScratchDir dir;
  std::filesystem::copy_file(golden("mooncake_sample.jsonl"), dir.file("mooncake.jsonl"));
  const std::string config = trace_config(dir, "mooncake.jsonl");
  const CliResult m = run_kvsim(dir, {"run", config, "--quiet", "--json"});
  REQUIRE(m.exit_code == 0);
  CHECK(m.out.starts_with("{\"requests\":40,"));

  // The same scenario with the trace swapped by --set, and a limit.
  const CliResult a = run_kvsim(dir, {"run", config, "--quiet", "--json", "--set",
                                      "workload.trace=" + golden("azure_conv_sample.csv"), "--set", "workload.limit=25"});
  REQUIRE(a.exit_code == 0);
  CHECK(a.out.starts_with("{\"requests\":25,\"completed\":25,"));
}

TEST_CASE("trace cli: the workload section rejects trace with generator, and trace keys without trace") {
  ScratchDir dir;
  std::filesystem::copy_file(golden("azure_conv_sample.csv"), dir.file("azure.csv"));
  const std::string both = trace_config(dir, "azure.csv", "generator = \"chat\"\n");
  const CliResult r = expect_trace_error(dir, {"run", both, "--quiet"});
  CHECK(has(r.err, "workload.generator: set either trace"));

  const CliResult keys = expect_trace_error(dir, {"run", "--quiet", "-o", "", "--set", "workload.speed=2"});
  CHECK(has(keys.err, "workload.speed: applies only to a trace replay"));

  const std::string missing = trace_config(dir, "absent.csv");
  const CliResult absent = expect_trace_error(dir, {"run", missing, "--quiet"});
  CHECK(has(absent.err, "absent.csv: cannot open the trace"));
}
