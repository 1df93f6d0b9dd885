// The integer arrays of JsonLine (hash ids, the bulk of every trace) are read by a fast path
// of their own (json_line.cpp); everything it declines goes to simdjson's DOM parser. These
// cases pin both sides: exact values for every digit count (checked against std::from_chars),
// blanks between tokens, and the arrays JSON or 64 bits do not allow, which must still fail
// with the DOM path's error on the array's key.
#include <doctest/doctest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/util/error.hpp"
#include "workloads/readers/json_line.hpp"

using kvsim::InputError;
using kvsim::workload::JsonLine;

namespace {

std::vector<std::uint64_t> read_array(JsonLine& j, const std::string& array) {
  static const std::string file = "ids.jsonl";
  j.parse(R"({"id": 5, "arr": )" + array + R"(, "after": "x"})", file, 9);
  CHECK(j.unsigned_integer("id") == 5);
  CHECK(j.string("after") == "x");
  const auto span = j.unsigned_array("arr");
  return {span.begin(), span.end()};
}

std::uint64_t reference(const std::string& digits) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  REQUIRE(ec == std::errc());
  REQUIRE(end == digits.data() + digits.size());
  return v;
}

// The error of parsing the line and reading "arr", or an empty field name when none.
std::string failing_field(JsonLine& j, const std::string& array) {
  try {
    j.parse(R"({"id": 5, "arr": )" + array + "}", "bad.jsonl", 4);
    (void)j.unsigned_array("arr");
  } catch (const InputError& e) {
    CHECK(e.line() == 4);
    return e.field();
  }
  return "";
}

}  // namespace

TEST_CASE("trace json_line: integer arrays exact for every digit count from 1 to 20") {
  JsonLine j;
  const std::string digits = "17654320987654321098";  // 20 digits, below 2^64 (1.8e19)
  std::string array = "[";
  std::vector<std::uint64_t> expected;
  for (std::size_t n = 1; n <= digits.size(); ++n) {
    array += (n > 1 ? ", " : "") + digits.substr(0, n);
    expected.push_back(reference(digits.substr(0, n)));
  }
  for (const std::string edge : {"0", "10000000000000000", "9999999999999999", "9999999999999999999",
                                 "10000000000000000000", "18446744073709551615", "18446744073709551614"}) {
    array += ", " + edge;
    expected.push_back(reference(edge));
  }
  array += "]";
  CHECK(read_array(j, array) == expected);
  CHECK(expected.back() == std::numeric_limits<std::uint64_t>::max() - 1);
}

TEST_CASE("trace json_line: integer arrays with blanks between tokens, empty arrays") {
  JsonLine j;
  CHECK(read_array(j, "[ 1 ,\t22 , 12345678901234567890\t]") == std::vector<std::uint64_t>{1, 22, 12345678901234567890ULL});
  CHECK(read_array(j, "[12345678901234567,1]") == std::vector<std::uint64_t>{12345678901234567ULL, 1});
  CHECK(read_array(j, "[]").empty());
  CHECK(read_array(j, "[ ]").empty());
  // Last in the line (where the fast path ends the line itself), blanks around the end.
  j.parse("{\"id\": 7, \"arr\": [ 3 , 12345678901234567890 ] \t} ", "f", 2);
  CHECK(j.unsigned_integer("id") == 7);
  const auto last = j.unsigned_array("arr");
  CHECK(std::vector<std::uint64_t>(last.begin(), last.end()) == std::vector<std::uint64_t>{3, 12345678901234567890ULL});
}

TEST_CASE("trace json_line: arrays beyond 64 bits or outside JSON fail on their key") {
  JsonLine j;
  CHECK(failing_field(j, "[18446744073709551616]") == "arr");           // 2^64
  CHECK(failing_field(j, "[99999999999999999999]") == "arr");           // 20 digits above 2^64
  CHECK(failing_field(j, "[123456789012345678901]") == "arr");          // 21 digits
  CHECK(failing_field(j, "[1, 01]") == "arr");                          // leading zero
  CHECK(failing_field(j, "[12345678901234567890x]") == "arr");
  CHECK(failing_field(j, "[1, 2,]") == "arr");
  CHECK(failing_field(j, "[1 2]") == "arr");
  CHECK(failing_field(j, "[-1]") == "arr");
  CHECK(failing_field(j, "[1.5]") == "arr");
  CHECK(failing_field(j, "[1, \"x\"]") == "arr");
  CHECK(failing_field(j, "[[1]]") == "arr");
  CHECK(failing_field(j, "[1]} x") == "json");  // text after the object
  CHECK(failing_field(j, "[1]}}") == "json");
  CHECK(failing_field(j, "[1], }") == "arr");     // a key expected after the comma
  // Still an array of strings when asked for one (the DOM path reads those).
  j.parse(R"({"names": ["a", "b"]})", "f", 1);
  CHECK(j.string_array("names") == std::vector<std::string>{"a", "b"});
}
