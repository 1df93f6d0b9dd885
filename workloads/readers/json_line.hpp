// Strict reading of one JSON-lines trace line (Bailian, Mooncake, kvsim's own format) on
// top of simdjson (Debian libsimdjson-dev: On-Demand for the lines it can check whole, the
// DOM parser for the rest and for every error; json_line.cpp), with kvsim's error reporting: every error names the file, the line, the
// field (key) it concerns and, for syntax errors, the column.
//
// Hash ids are unsigned 64-bit integers and stay exact (simdjson keeps integers as
// integers). One JsonLine is reused for every line of a file, so parsing allocates nothing
// in the steady state. Accepted: one object per line whose values are strings, numbers,
// true/false, null, arrays (of integers, of strings, or anything else, which is skipped)
// or nested objects (skipped). Unknown keys are ignored by the readers; a duplicate key is
// an error. Errors are InputError(file, line, field, what was expected).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsim::workload {

class JsonLine {
 public:
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };

  JsonLine();
  ~JsonLine();
  JsonLine(JsonLine&&) noexcept;
  JsonLine& operator=(JsonLine&&) noexcept;

  // Parses text, which must hold exactly one JSON object. The accessors return views into
  // this JsonLine (valid until the next parse). file and line locate errors.
  void parse(std::string_view text, const std::string& file, long line);
  // Same, but says false instead of throwing (format detection).
  bool try_parse(std::string_view text);

  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Present and not null.
  bool present(std::string_view key) const;

  // Required values: a missing key or a wrong type is an InputError naming the key.
  double number(std::string_view key) const;
  std::uint64_t unsigned_integer(std::string_view key) const;
  std::int64_t integer(std::string_view key) const;
  std::string_view string(std::string_view key) const;
  bool boolean(std::string_view key) const;
  // Array of non-negative integers, exact up to 2^64-1.
  std::span<const std::uint64_t> unsigned_array(std::string_view key) const;
  std::vector<std::string> string_array(std::string_view key) const;

  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

 private:
  enum class ArrayKind : std::uint8_t { empty, unsigned_integers, strings, other };
  enum class NumberKind : std::uint8_t { unsigned_integer, signed_integer, floating };
  struct Field {
    std::string_view key;
    Kind kind = Kind::null;
    bool flag = false;       // boolean value
    NumberKind number_kind = NumberKind::floating;
    std::uint64_t u = 0;     // number as parsed (one of u, i, d by number_kind)
    std::int64_t i = 0;
    double d = 0;
    std::string_view text;   // string contents (unescaped)
    ArrayKind array_kind = ArrayKind::empty;
    std::uint32_t begin = 0, size = 0;  // slice of numbers_ or strings_
  };
  struct Parser;  // simdjson's, kept out of this header

  // The fast path of parse(): true when it read the whole line, false when the line
  // needs the DOM parser (which then decides, with its own errors).
  bool parse_on_demand(std::size_t length);
  const Field* find(std::string_view key) const;
  const Field& require(std::string_view key, Kind kind, const char* expected) const;
  static std::string number_text(const Field& f);
  // A line simdjson rejected: walks it again to name the key and column, then throws.
  [[noreturn]] void locate_error(std::size_t length, int code) const;
  [[noreturn]] void syntax(std::string_view key, long column, const std::string& message) const;

  std::unique_ptr<Parser> parser_;
  std::vector<char> padded_;  // the line plus simdjson's padding
  const std::string* file_ = nullptr;
  long line_ = 0;
  std::vector<Field> fields_;
  std::vector<std::uint64_t> numbers_;
  std::vector<std::string_view> strings_;
};

}  // namespace kvsim::workload
