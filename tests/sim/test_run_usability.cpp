// What a new user tripped over in `kvsim run` (issue 9, section 3), through the real binary:
// default results names that differ with the settings, choosing a trace or another
// generator on the command line over the default scenario's chat workload, rejected
// requests explained (and a warning above 1 %), and the type and category columns of
// /requests.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <hdf5.h>

#include "tests/sim/cli_helpers.hpp"

namespace fs = std::filesystem;
using kvsim::test::CliResult;
using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// FNV-1a 64 written here from its definition (offset basis 14695981039346656037, prime
// 1099511628211), independently of sim/util/random.cpp.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// The default results name of a run of the embedded scenario: results/default-seed<seed>-
// followed by the top 32 bits of the hash of its resolved config (--print-config) in hex.
std::string expected_default_path(const ScratchDir& dir, std::vector<std::string> args, int seed) {
  args.insert(args.begin(), "run");
  args.push_back("--print-config");
  const CliResult config = run_kvsim(dir, args);
  REQUIRE(config.exit_code == 0);
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08llx", static_cast<unsigned long long>(fnv1a(config.out) >> 32));
  return "results/default-seed" + std::to_string(seed) + "-" + hash + ".h5";
}

// A Mooncake-format trace (512-token prefix hashes) of requests with the given input
// lengths and 10 output tokens each, one per 100 ms, no hash shared between requests.
std::string mooncake_trace(const std::vector<int>& inputs) {
  std::string text;
  std::uint64_t hash = 1;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    text += "{\"timestamp\": " + std::to_string(100 * i) + ", \"input_length\": " + std::to_string(inputs[i]) +
            ", \"output_length\": 10, \"hash_ids\": [";
    for (int k = 0; k < (inputs[i] + 511) / 512; ++k) text += (k ? ", " : "") + std::to_string(hash++);
    text += "]}\n";
  }
  return text;
}

}  // namespace

TEST_CASE("run: default results names differ with the settings, carry the config's hash, and are printed") {
  ScratchDir dir;
  const std::vector<std::string> a{"--set", "workload.num_requests=100"};
  const std::vector<std::string> b{"--set", "workload.num_requests=100", "--set", "workload.rate=5"};
  const std::string path_a = expected_default_path(dir, a, 1), path_b = expected_default_path(dir, b, 1);
  REQUIRE(path_a != path_b);

  std::vector<std::string> run_a{"run"};
  run_a.insert(run_a.end(), a.begin(), a.end());
  const CliResult first = run_kvsim(dir, run_a);
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.out, "results: " + path_a + "\n"));
  std::vector<std::string> run_b{"run", "--quiet"};
  run_b.insert(run_b.end(), b.begin(), b.end());
  REQUIRE(run_kvsim(dir, run_b).exit_code == 0);
  // The second run with other settings did not overwrite the first one's file.
  CHECK(fs::is_regular_file(dir.file(path_a)));
  CHECK(fs::is_regular_file(dir.file(path_b)));
  // The same settings again name the same file (identical results, by determinism).
  run_a.push_back("--quiet");
  REQUIRE(run_kvsim(dir, run_a).exit_code == 0);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "results")) files += e.is_regular_file();
  CHECK(files == 2);
}

TEST_CASE("run: --set workload.trace or another generator replaces the default scenario's chat workload") {
  ScratchDir dir;
  dir.write("t.jsonl", mooncake_trace({100, 600, 1200}));
  const CliResult trace = run_kvsim(dir, {"run", "--quiet", "-o", "out.h5", "--set", "workload.trace=t.jsonl"});
  INFO(trace.err);
  CHECK(trace.exit_code == 0);
  CHECK(fs::is_regular_file(dir.file("out.h5")));

  const CliResult mix = run_kvsim(dir, {"run", "--quiet", "-o", "", "--set", "workload.generator=mix", "--set",
                                        "workload.spec=to-c", "--set", "workload.num_requests=30"});
  INFO(mix.err);
  CHECK(mix.exit_code == 0);

  // The chat keys are gone from the resolved config; closed_loop, which every source has, stays.
  const CliResult config = run_kvsim(dir, {"run", "--print-config", "--set", "workload.generator=mix", "--set",
                                           "workload.spec=to-c", "--set", "workload.closed_loop=true"});
  REQUIRE(config.exit_code == 0);
  CHECK_FALSE(contains(config.out, "system_prompt_tokens"));
  CHECK_FALSE(contains(config.out, "num_requests = 3000"));
  CHECK(contains(config.out, "closed_loop = true"));
  // Naming the generator the config already has keeps its settings.
  const CliResult same = run_kvsim(dir, {"run", "--print-config", "--set", "workload.generator=chat"});
  REQUIRE(same.exit_code == 0);
  CHECK(contains(same.out, "system_prompts = 20"));
}

TEST_CASE("run: rejected requests are explained by cause, with a warning above 1 percent") {
  ScratchDir dir;
  // A pool of 64 blocks of 16 tokens per instance: 100 + 10 tokens fit; 2000 + 10 cannot
  // (the last token's KV is never computed: 2009 tokens = ceil(2009 / 16) = 126 blocks).
  dir.write("t10.jsonl", mooncake_trace({100, 100, 2000, 100, 100, 100, 2000, 100, 100, 100}));
  const std::vector<std::string> small_pool{"--set", "instances.kv_blocks=64", "-o", ""};
  std::vector<std::string> args{"run", "--quiet", "--set", "workload.trace=t10.jsonl"};
  args.insert(args.end(), small_pool.begin(), small_pool.end());
  const CliResult warned = run_kvsim(dir, args);
  REQUIRE(warned.exit_code == 0);
  CHECK(warned.out.empty());
  CHECK(warned.err ==
        "kvsim: warning: 2 of 10 requests (20 %) were rejected: they can never be served\n"
        "  2 x 2009 tokens need 126 KV blocks; the pool has 64\n");

  // 1 of 200 (0.5 %): no warning, one line under the summary table; nothing with --quiet.
  std::vector<int> inputs(200, 100);
  inputs[7] = 2000;
  dir.write("t200.jsonl", mooncake_trace(inputs));
  std::vector<std::string> table{"run", "--set", "workload.trace=t200.jsonl"};
  table.insert(table.end(), small_pool.begin(), small_pool.end());
  const CliResult listed = run_kvsim(dir, table);
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.err.empty());
  CHECK(contains(listed.out, "\n1 of 200 requests (0.5 %) were rejected: they can never be served\n"
                             "  1 x 2009 tokens need 126 KV blocks; the pool has 64\n"));
  table.push_back("--quiet");
  const CliResult quiet = run_kvsim(dir, table);
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());
}

TEST_CASE("run: /requests has the request type and category of every request") {
  ScratchDir dir;
  // A Bailian trace: one text conversation of six turns and one file request. Category =
  // type_turn, turns from 5 on sharing "_5+" (workloads/category.hpp).
  std::string text;
  const char* rows[][4] = {{"1", "-1", "text", "1"}, {"2", "-1", "file", "1"}, {"3", "1", "text", "2"},
                           {"4", "3", "text", "3"},  {"5", "4", "text", "4"},  {"6", "5", "text", "5"},
                           {"7", "6", "text", "6"}};
  int t = 0;
  for (const auto& r : rows) {
    const int timestamp = t++;  // hash ids 2t, 2t+1 use the incremented t
    text += std::string("{\"chat_id\": ") + r[0] + ", \"parent_chat_id\": " + r[1] + ", \"timestamp\": " +
            std::to_string(timestamp) + ", \"input_length\": 32, \"output_length\": 4, \"type\": \"" + r[2] +
            "\", \"turn\": " + r[3] + ", \"hash_ids\": [" + std::to_string(2 * t) + ", " + std::to_string(2 * t + 1) +
            "]}\n";
  }
  dir.write("b.jsonl", text);
  const CliResult run = run_kvsim(dir, {"run", "--quiet", "-o", "out.h5", "--set", "workload.trace=b.jsonl"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);

  struct Row {
    std::uint64_t id;
    std::uint32_t turn;
    char type[24];
    char category[28];
  };
  const auto string_type = [](std::size_t size) {
    const hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, size);
    H5Tset_strpad(s, H5T_STR_NULLPAD);
    return s;
  };
  const hid_t type24 = string_type(24), type28 = string_type(28);
  const hid_t memory = H5Tcreate(H5T_COMPOUND, sizeof(Row));
  H5Tinsert(memory, "id", offsetof(Row, id), H5T_NATIVE_UINT64);
  H5Tinsert(memory, "turn", offsetof(Row, turn), H5T_NATIVE_UINT32);
  H5Tinsert(memory, "type", offsetof(Row, type), type24);
  H5Tinsert(memory, "category", offsetof(Row, category), type28);
  const hid_t file = H5Fopen(dir.file("out.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t dataset = H5Dopen2(file, "requests", H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  std::vector<Row> got(7);
  const hid_t space = H5Dget_space(dataset);
  REQUIRE(H5Sget_simple_extent_npoints(space) == 7);
  CHECK(H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, got.data()) >= 0);
  H5Sclose(space);
  for (const hid_t type : {type24, type28, memory}) H5Tclose(type);
  H5Dclose(dataset);
  H5Fclose(file);

  const char* expected_category[] = {"text_1", "file_1", "text_2", "text_3", "text_4", "text_5+", "text_5+"};
  for (const Row& r : got) {
    REQUIRE(r.id >= 1);
    REQUIRE(r.id <= 7);
    INFO("request " << r.id);
    CHECK(std::string(r.type, strnlen(r.type, sizeof r.type)) == rows[r.id - 1][2]);
    CHECK(std::string(r.category, strnlen(r.category, sizeof r.category)) == expected_category[r.id - 1]);
    CHECK(r.turn == std::stoul(rows[r.id - 1][3]));
  }
}
