// `kvsim sweep` through the real binary: a 4-point sweep, resuming without redoing finished
// points, a bad point failing alone, Slurm slices + --collect equal to a local run.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string>
#include <vector>

#include "tests/sim/cli_helpers.hpp"

namespace {

using kvsim::test::read_text;
using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

// Two instance counts x two seeds of a 150-request default scenario: about 0.1 s per point.
const char* const kSweep = R"([sweep]
name = "four"
output = "out"
seeds = [1, 2]
set = ["workload.num_requests=150"]
[grid]
instances.count = [2, 4]
)";

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream cell_in(line);
    for (std::string cell; std::getline(cell_in, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// The index without its wall-clock columns (how fast this machine ran each point).
std::vector<std::vector<std::string>> simulated_columns(const std::string& csv) {
  auto rows = csv_rows(csv);
  REQUIRE(!rows.empty());
  std::vector<std::size_t> keep;
  for (std::size_t c = 0; c < rows[0].size(); ++c)
    if (rows[0][c] != "wall_time" && rows[0][c] != "requests_per_wall_second") keep.push_back(c);
  std::vector<std::vector<std::string>> out;
  for (const auto& r : rows) {
    std::vector<std::string> kept;
    for (const auto c : keep) kept.push_back(c < r.size() ? r[c] : "");
    out.push_back(kept);
  }
  return out;
}

std::size_t column(const std::vector<std::vector<std::string>>& rows, const std::string& name) {
  for (std::size_t c = 0; c < rows[0].size(); ++c)
    if (rows[0][c] == name) return c;
  FAIL("no column " << name);
  return 0;
}

}  // namespace

TEST_CASE("kvsim sweep: 4 points, index rows as expanded, resume skips finished points") {
  ScratchDir dir;
  dir.write("s.toml", kSweep);
  const auto first = run_kvsim(dir, {"sweep", "s.toml", "--jobs", "2"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const auto rows = csv_rows(read_text(dir.file("out/index.csv")));
  REQUIRE(rows.size() == 5);
  CHECK(rows[0][0] == "point");
  CHECK(rows[0][1] == "instances.count");
  CHECK(rows[0][2] == "seed");
  const std::size_t status = column(rows, "status"), path = column(rows, "path"), requests = column(rows, "requests");
  const std::string counts[] = {"2", "2", "4", "4"}, seeds[] = {"1", "2", "1", "2"};
  for (std::size_t r = 1; r <= 4; ++r) {
    CHECK(rows[r][0] == std::to_string(r - 1));
    CHECK(rows[r][1] == counts[r - 1]);
    CHECK(rows[r][2] == seeds[r - 1]);
    CHECK(rows[r][status] == "ok");
    CHECK(rows[r][requests] == "150");
    CHECK(std::filesystem::is_regular_file(dir.file("out/" + rows[r][path])));
  }
  CHECK(std::filesystem::is_regular_file(dir.file("out/index.h5")));

  // Resume after losing one point (as an interrupted sweep would): only that one runs again,
  // the others keep their files untouched.
  const auto kept = std::filesystem::last_write_time(dir.file("out/" + rows[1][path]));
  std::filesystem::remove(dir.file("out/" + rows[3][path]));
  const auto again = run_kvsim(dir, {"sweep", "s.toml"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("4/4 points done (3 already there)") != std::string::npos);
  CHECK(std::filesystem::last_write_time(dir.file("out/" + rows[1][path])) == kept);
  CHECK(std::filesystem::is_regular_file(dir.file("out/" + rows[3][path])));
}

TEST_CASE("kvsim sweep: a point with a bad value fails alone, with its error in the index") {
  ScratchDir dir;
  dir.write("bad.toml", "[sweep]\noutput = \"out\"\nset = [\"workload.num_requests=100\"]\n[grid]\ninstances.count = [2, 0, 3]\n");
  const auto r = run_kvsim(dir, {"sweep", "bad.toml"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("point p0001 (instances.count=0, seed 1) failed: ") != std::string::npos);
  const auto rows = csv_rows(read_text(dir.file("out/index.csv")));
  REQUIRE(rows.size() == 4);
  const std::size_t status = column(rows, "status");
  CHECK(rows[1][status] == "ok");
  CHECK(rows[2][status] == "failed");
  CHECK(rows[3][status] == "ok");
  CHECK(read_text(dir.file("out/index.csv")).find("instances.count: expected an integer between 1 and") != std::string::npos);
  // The failure is not "done": a rerun tries it again (and fails again).
  CHECK(run_kvsim(dir, {"sweep", "bad.toml"}).err.find("2 already there") != std::string::npos);
}

TEST_CASE("kvsim sweep: Slurm script passes bash -n and slices then --collect equal a local run") {
  ScratchDir dir;
  dir.write("s.toml", kSweep);
  REQUIRE(run_kvsim(dir, {"sweep", "s.toml", "--emit-slurm", "job.sh", "--array", "3"}).exit_code == 0);
  const std::string script = read_text(dir.file("job.sh"));
  CHECK(script.find("#SBATCH --array=0-2\n") != std::string::npos);
  CHECK(script.find("--slice \"${SLURM_ARRAY_TASK_ID}/3\"") != std::string::npos);
  CHECK(std::system(("bash -n " + kvsim::test::shell_quote(dir.file("job.sh"))).c_str()) == 0);

  // Before any slice ran, --collect reports every point missing (exit 1).
  CHECK(run_kvsim(dir, {"sweep", "s.toml", "--collect"}).exit_code == 1);
  for (const char* slice : {"0/3", "1/3", "2/3"}) {
    const auto r = run_kvsim(dir, {"sweep", "s.toml", "--slice", slice});
    REQUIRE(r.exit_code == 0);
  }
  // Slice 0/3 holds points 0 and 3, slice 1/3 point 1, slice 2/3 point 2.
  const auto collect = run_kvsim(dir, {"sweep", "s.toml", "--collect"});
  REQUIRE(collect.exit_code == 0);
  const std::string collected = read_text(dir.file("out/index.csv"));
  REQUIRE(run_kvsim(dir, {"sweep", "s.toml", "--output", "local"}).exit_code == 0);
  CHECK(simulated_columns(collected) == simulated_columns(read_text(dir.file("local/index.csv"))));
}

TEST_CASE("kvsim sweep: bad invocations exit 2 naming what is wrong") {
  ScratchDir dir;
  dir.write("s.toml", "[sweep]\nrepetitons = 2\n");
  auto r = run_kvsim(dir, {"sweep", "s.toml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("s.toml:2: sweep.repetitons: unknown key") != std::string::npos);
  r = run_kvsim(dir, {"sweep"});
  CHECK(r.exit_code == 2);
  r = run_kvsim(dir, {"sweep", "s.toml", "--slice", "4/4"});
  CHECK(r.exit_code == 2);
  dir.write("blocked", "a file where the output folder should be");
  dir.write("ok.toml", "[sweep]\noutput = \"blocked/out\"\n");
  r = run_kvsim(dir, {"sweep", "ok.toml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("ok.toml: sweep.output: cannot write into the output folder blocked/out") != std::string::npos);
  r = run_kvsim(dir, {"sweep", "missing.toml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing.toml") != std::string::npos);
}

TEST_CASE("kvsim sweep: Ctrl-C stops after the running point and a rerun does only the rest") {
  ScratchDir dir;
  dir.write("s.toml",
            "[sweep]\noutput = \"out\"\nrepetitions = 8\nset = [\"workload.num_requests=300\"]\n");
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(dir.path().c_str()) != 0) _exit(90);
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execl(KVSIM_BINARY, "kvsim", "sweep", "s.toml", static_cast<char*>(nullptr));
    _exit(91);
  }
  auto finished_points = [&] {
    std::size_t n = 0;
    for (const auto& name : dir.entries()) n += name.starts_with("out/p") && name.ends_with(".h5");
    return n;
  };
  for (int i = 0; i < 1200 && finished_points() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(finished_points() >= 1);
  kill(pid, SIGINT);  // the sweep only: the running point finishes, no new one starts
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  const std::size_t kept = finished_points();
  if (kept < 8) {
    CHECK(WEXITSTATUS(status) == 130);
    CHECK(!std::filesystem::exists(dir.file("out/index.csv")));
  }
  const auto again = run_kvsim(dir, {"sweep", "s.toml"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("8/8 points done (" + std::to_string(kept) + " already there)") != std::string::npos);
  CHECK(finished_points() == 8);
}
