// Where the results file may go (issue 10): a device, FIFO or socket is never replaced by
// the renamed temporary file (item 2), and a disk that is full before the write starts
// leaves no empty temporary file behind (item 11; HDF5's "infinite loop closing library"
// at exit is checked through the real binary in tests/sim/test_bad_inputs.cpp).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/results/records.hpp"
#include "sim/util/error.hpp"

#include "tests/sim/cli_helpers.hpp"

namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


kvsim::results::RunMetadata metadata() {
  kvsim::results::RunMetadata meta;
  meta.kvsim_version = "test";
  meta.config_toml = "[run]\nseed = 1\n";
  return meta;
}

// Limits the size of files this process may write to 0 bytes, as a disk with no free
// space would, for the lifetime of the object. SIGXFSZ is ignored so that writes fail
// with EFBIG instead of killing the process.
class NoFileSpace {
 public:
  NoFileSpace() {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit none = saved_;
    none.rlim_cur = 0;
    ::setrlimit(RLIMIT_FSIZE, &none);
  }
  ~NoFileSpace() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_);
  }

 private:
  rlimit saved_{};
  void (*previous_)(int) = SIG_DFL;
};

}  // namespace

TEST_CASE("results output: a FIFO is refused before and at writing, and stays a FIFO") {
  kvsim::test::ScratchDir dir;
  const fs::path fifo = dir.path() / "results.h5";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  try {
    kvsim::results::check_output_path(fifo.string());
    FAIL("no exception");
  } catch (const kvsim::InputError& e) {
    CHECK(e.file() == fifo.string());
    CHECK(e.field() == "output");
    CHECK(contains(e.what(), "is a FIFO, not a regular file"));
  }
  CHECK_THROWS_WITH_AS(kvsim::results::write_hdf5(fifo.string(), metadata(), kvsim::results::RunTables{}, kvsim::results::summarize({}, 0, 0)),
                       doctest::Contains("is a FIFO, not a regular file"), kvsim::InputError);
  CHECK(fs::is_fifo(fifo));
  CHECK(dir.entries() == std::vector<std::string>{"results.h5"});
}

TEST_CASE("results output: a full disk fails the write with a clear error and leaves no file") {
  kvsim::test::ScratchDir dir;
  const std::string path = (dir.path() / "run.h5").string();
  try {
    const NoFileSpace full;
    kvsim::results::write_hdf5(path, metadata(), kvsim::results::RunTables{}, kvsim::results::summarize({}, 0, 0));
    FAIL("no exception");
  } catch (const kvsim::InputError& e) {
    CHECK(e.file() == path);
    CHECK(e.field() == "output");
    CHECK(contains(e.what(), "cannot write the file: File too large"));
  }
  CHECK(dir.entries().empty());
  // With space again, the same path is written normally.
  kvsim::results::write_hdf5(path, metadata(), kvsim::results::RunTables{}, kvsim::results::summarize({}, 0, 0));
  CHECK(dir.entries() == std::vector<std::string>{"run.h5"});
}
