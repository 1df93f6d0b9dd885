// Whole-file reading (sim/util/text.hpp) and the output-path check shared by the writers
// (sim/util/output_file.hpp): a directory is not an empty config (issue 10, item 6), and a
// device, FIFO or socket is never replaced by a renamed temporary file (item 2).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "sim/util/error.hpp"
#include "sim/util/output_file.hpp"
#include "sim/util/text.hpp"

#include "tests/sim/cli_helpers.hpp"

namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


}  // namespace

TEST_CASE("read_text_file: a directory is an error naming the path and the field") {
  kvsim::test::ScratchDir dir;
  try {
    kvsim::read_text_file(dir.path().string(), "config");
    FAIL("no exception");
  } catch (const kvsim::InputError& e) {
    CHECK(e.file() == dir.path().string());
    CHECK(e.field() == "config");
    CHECK(contains(e.what(), "is a directory, expected a file"));
  }
}

TEST_CASE("read_text_file: reads a file whole, an empty one as empty, and a missing one is an error") {
  kvsim::test::ScratchDir dir;
  const std::string text = std::string("a = 1\n") + std::string(200000, 'x') + "\n";
  { std::ofstream(dir.path() / "big.toml", std::ios::binary) << text; }
  CHECK(kvsim::read_text_file((dir.path() / "big.toml").string(), "config") == text);
  { std::ofstream(dir.path() / "empty.toml", std::ios::binary); }
  CHECK(kvsim::read_text_file((dir.path() / "empty.toml").string(), "config").empty());
  CHECK_THROWS_WITH_AS(kvsim::read_text_file((dir.path() / "none.toml").string(), "config", "cannot open the card"),
                       doctest::Contains("cannot open the card"), kvsim::InputError);
}

TEST_CASE("read_text_file: an endless file stops at the size bound") {
  try {
    kvsim::read_text_file("/dev/zero", "config");
    FAIL("no exception");
  } catch (const kvsim::InputError& e) {
    CHECK(e.file() == "/dev/zero");
    CHECK(contains(e.what(), "is larger than 64 MiB"));
  }
}

TEST_CASE("check_regular_output: only a missing path or a regular file may be written") {
  kvsim::test::ScratchDir dir;
  const fs::path missing = dir.path() / "new.h5";
  const fs::path regular = dir.path() / "old.h5";
  { std::ofstream(regular) << "x"; }
  CHECK_NOTHROW(kvsim::check_regular_output(missing.string(), "output"));
  CHECK_NOTHROW(kvsim::check_regular_output(regular.string(), "output"));
  fs::create_symlink(regular, dir.path() / "link.h5");
  CHECK_NOTHROW(kvsim::check_regular_output((dir.path() / "link.h5").string(), "output"));

  const fs::path fifo = dir.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  try {
    kvsim::check_regular_output(fifo.string(), "output");
    FAIL("no exception");
  } catch (const kvsim::InputError& e) {
    CHECK(e.file() == fifo.string());
    CHECK(e.field() == "output");
    CHECK(contains(e.what(), "is a FIFO, not a regular file"));
  }
  CHECK_THROWS_WITH_AS(kvsim::check_regular_output("/dev/null", "output"),
                       doctest::Contains("is a character device, not a regular file"), kvsim::InputError);
  CHECK_THROWS_WITH_AS(kvsim::check_regular_output(dir.path().string(), "output"),
                       doctest::Contains("is a directory"), kvsim::InputError);
  CHECK(fs::is_fifo(fifo));
}
