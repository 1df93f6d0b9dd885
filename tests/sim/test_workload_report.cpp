// What a trace replay leaves out is reported: in the summary table and in the results file.
#include <doctest/doctest.h>

#include <filesystem>

#include <hdf5.h>

#include "tests/sim/cli_helpers.hpp"

using namespace kvsim::test;

namespace {

std::string string_attribute(const std::string& path, const char* name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t attribute = H5Aopen(file, name, H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  const hid_t type = H5Aget_type(attribute);
  char* text = nullptr;
  REQUIRE(H5Aread(attribute, type, &text) >= 0);
  std::string value = text ? text : "";
  H5free_memory(text);
  H5Tclose(type);
  H5Aclose(attribute);
  H5Fclose(file);
  return value;
}

}  // namespace

TEST_CASE("run: skipped bad lines and failed BurstGPT requests are reported, not silently dropped") {
  ScratchDir dir;
  dir.write("trace.csv",
            "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
            "0,ChatGPT,100,20,120,Conversation log\n"
            "1,ChatGPT,50,0,50,Conversation log\n"  // a failure: no response
            "2,GPT-4,70,30,100,API log\n"
            "not,a,valid,row\n");
  dir.write("scenario.toml", "[workload]\ntrace = \"trace.csv\"\nskip_bad_lines = true\n[output]\npath = \"out.h5\"\n");
  const CliResult r = run_kvsim(dir, {"run", dir.file("scenario.toml")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("requests      released 2") != std::string::npos);
  CHECK(r.out.find("not replayed: bad_lines=1; failed_requests=1") != std::string::npos);
  CHECK(string_attribute(dir.file("out.h5"), "workload_report") == "bad_lines=1; failed_requests=1");
}

TEST_CASE("run: without skip_bad_lines a malformed trace line fails naming file and line, leaving no file") {
  ScratchDir dir;
  dir.write("trace.csv",
            "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
            "0,ChatGPT,100,20,120,Conversation log\n"
            "not,a,valid,row\n");
  dir.write("scenario.toml", "[workload]\ntrace = \"trace.csv\"\n[output]\npath = \"out.h5\"\n");
  const CliResult r = run_kvsim(dir, {"run", dir.file("scenario.toml")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("trace.csv:3:") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.file("out.h5")));
}
