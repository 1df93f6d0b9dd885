// A small, strict parser for JSON-lines traces (Bailian, Mooncake, kvsim's own format).
//
// Why not a JSON library: trace lines are flat objects of a few numbers, strings and one
// array of integers, read millions of times; hash ids are unsigned 64-bit integers that must
// stay exact (a double-based parser would round them). One JsonLine is reused for every line
// of a file, so parsing allocates nothing in the steady state.
//
// Accepted: one object per line whose values are strings, numbers, true/false, null, or
// arrays (of integers, of strings, or anything else, which is skipped); nested objects are
// skipped. Unknown keys are ignored by the readers; a duplicate key is an error. Errors are
// InputError(file, line, field, what was expected).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsim::workload {

class JsonLine {
 public:
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };

  // Parses text, which must hold exactly one JSON object. The accessors return views into
  // text, so it must outlive them. file and line locate errors.
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
  struct Field {
    std::string_view key;
    Kind kind = Kind::null;
    bool flag = false;       // boolean value
    std::string_view text;   // number text, or string contents (unescaped)
    ArrayKind array_kind = ArrayKind::empty;
    std::uint32_t begin = 0, size = 0;  // slice of numbers_ or strings_
  };

  const Field* find(std::string_view key) const;
  const Field& require(std::string_view key, Kind kind, const char* expected) const;

  // Parsing state.
  void skip_space();
  [[noreturn]] void syntax(const std::string& message) const;
  std::string_view parse_string();
  std::string_view parse_number();
  void parse_literal(std::string_view word);
  void parse_array(Field& field);
  void skip_value(int depth);

  std::string_view text_;
  std::size_t pos_ = 0;
  const std::string* file_ = nullptr;
  long line_ = 0;
  std::string_view current_key_;
  std::vector<Field> fields_;
  std::vector<std::uint64_t> numbers_;
  std::vector<std::string_view> strings_;
  std::deque<std::string> unescaped_;  // deque: growing it keeps earlier views valid
};

}  // namespace kvsim::workload
