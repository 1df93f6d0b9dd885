// JSON-lines parsing on simdjson (see json_line.hpp). The fast path is simdjson's DOM
// parser, which dispatches to the CPU's best kernels at run time (its On-Demand API is
// compiled for the baseline CPU only unless the whole build targets a newer one). A line
// the DOM parser rejects is walked again with On-Demand, which stops where the error is,
// so the message can name the key, the column and what was expected there.
#include "workloads/readers/json_line.hpp"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "sim/util/error.hpp"

namespace kvsim::workload {

namespace dom = simdjson::dom;
namespace ondemand = simdjson::ondemand;

struct JsonLine::Parser {
  dom::parser dom;
};

namespace {

constexpr int kMaxDepth = 64;  // nested values we walk when locating an error

const char* kind_name(JsonLine::Kind kind) {
  switch (kind) {
    case JsonLine::Kind::null: return "null";
    case JsonLine::Kind::boolean: return "a boolean";
    case JsonLine::Kind::number: return "a number";
    case JsonLine::Kind::string: return "a string";
    case JsonLine::Kind::array: return "an array";
    case JsonLine::Kind::object: return "an object";
  }
  return "?";
}

// What a simdjson error means at the place it was found; context says what the walk was
// expecting next when the error is a structural one.
std::string describe(simdjson::error_code code, const char* context) {
  using simdjson::error_code;
  switch (code) {
    case error_code::UNESCAPED_CHARS: return "control character inside a string";
    case error_code::UNCLOSED_STRING: return "unterminated string";
    case error_code::STRING_ERROR: return "invalid escape in a string";
    case error_code::NUMBER_ERROR: return "malformed or out-of-range number";
    case error_code::INCORRECT_TYPE: return "expected a value (a string, number, array, object, true, false or null)";
    case error_code::NUMBER_OUT_OF_RANGE: return "number out of range";
    case error_code::T_ATOM_ERROR: return "expected true";
    case error_code::F_ATOM_ERROR: return "expected false";
    case error_code::N_ATOM_ERROR: return "expected null";
    case error_code::UTF8_ERROR: return "invalid UTF-8";
    case error_code::DEPTH_ERROR: return "values nested too deeply";
    case error_code::EMPTY: return "expected '{' (one JSON object per line)";
    case error_code::TAPE_ERROR:
    case error_code::INCOMPLETE_ARRAY_OR_OBJECT:
      if (context) return context;
      break;
    default: break;
  }
  return simdjson::error_message(code);
}

// The On-Demand walk of a rejected line: records the first error with its key and place.
struct ErrorWalk {
  const char* begin = nullptr;
  ondemand::document* doc = nullptr;
  std::string key;  // key whose value was being read ("" = the line itself)
  simdjson::error_code code = simdjson::SUCCESS;
  const char* context = nullptr;
  long column = 0;  // 1-based, 0 = unknown

  bool failed(simdjson::error_code e, const char* what = nullptr) {
    if (!e) return false;
    code = e;
    context = what;
    const char* at = nullptr;
    if (doc && !doc->current_location().get(at)) column = long(at - begin) + 1;
    return true;
  }

  bool value(ondemand::value v, int depth) {
    if (depth > kMaxDepth) return failed(simdjson::DEPTH_ERROR);
    ondemand::json_type type;
    if (failed(v.type().get(type))) return true;
    switch (type) {
      case ondemand::json_type::object: {
        ondemand::object object;
        if (failed(v.get_object().get(object))) return true;
        for (auto member : object) {
          ondemand::field f;
          if (failed(std::move(member).get(f), "expected ',' or '}'")) return true;
          if (value(f.value(), depth + 1)) return true;
        }
        return false;
      }
      case ondemand::json_type::array: {
        ondemand::array array;
        if (failed(v.get_array().get(array))) return true;
        for (auto element : array) {
          ondemand::value e;
          if (failed(std::move(element).get(e), "expected ',' or ']' in the array")) return true;
          if (value(e, depth + 1)) return true;
        }
        return false;
      }
      case ondemand::json_type::number: {
        ondemand::number n;
        return failed(v.get_number().get(n));
      }
      case ondemand::json_type::string: {
        std::string_view s;
        return failed(v.get_string().get(s));
      }
      case ondemand::json_type::boolean: {
        bool b;
        return failed(v.get_bool().get(b));
      }
      case ondemand::json_type::null: {
        bool null = false;
        if (failed(v.is_null().get(null))) return true;
        return null ? false : failed(simdjson::N_ATOM_ERROR);
      }
    }
    return false;
  }

  // Walks the line; false when On-Demand finds nothing wrong either.
  bool line(const char* data, std::size_t length, std::size_t capacity) {
    ondemand::parser parser;
    ondemand::document document;
    if (failed(parser.iterate(data, length, capacity).get(document))) return true;
    doc = &document;
    ondemand::object object;
    if (const auto e = document.get_object().get(object)) {
      return failed(e, e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT
                           ? "the object does not close at the end of the line (truncated, or followed by more text)"
                           : "expected '{' (one JSON object per line)");
    }
    std::string previous;
    for (auto member : object) {
      ondemand::field f;
      key = previous;  // a missing ',' or '}' is reported after the previous value
      if (failed(std::move(member).get(f), "expected ',' or '}'")) return true;
      std::string_view k;
      key.clear();
      if (failed(f.unescaped_key().get(k), "expected a key string")) return true;
      key = std::string(k);
      if (value(f.value(), 1)) return true;
      previous = key;
    }
    key.clear();
    return false;
  }
};

}  // namespace

JsonLine::JsonLine() : parser_(std::make_unique<Parser>()) {}
JsonLine::~JsonLine() = default;
JsonLine::JsonLine(JsonLine&&) noexcept = default;
JsonLine& JsonLine::operator=(JsonLine&&) noexcept = default;

void JsonLine::syntax(std::string_view key, long column, const std::string& message) const {
  throw InputError(file_ ? *file_ : std::string(), line_, key.empty() ? "json" : std::string(key),
                   "invalid JSON" + (column > 0 ? " at column " + std::to_string(column) : std::string()) + ": " +
                       message);
}

void JsonLine::fail(std::string_view key, const std::string& message) const {
  throw InputError(file_ ? *file_ : std::string(), line_, std::string(key), message);
}

void JsonLine::locate_error(std::size_t length, int code) const {
  ErrorWalk walk;
  walk.begin = padded_.data();
  if (walk.line(padded_.data(), length, padded_.size())) {
    // simdjson finds raw control characters before it walks anything: point at the first.
    if (walk.code == simdjson::UNESCAPED_CHARS && walk.column == 0)
      for (std::size_t i = 0; i < length; ++i)
        if (static_cast<unsigned char>(padded_[i]) < 0x20 && padded_[i] != '\t' && padded_[i] != '\r' && padded_[i] != '\n') {
          walk.column = long(i) + 1;
          break;
        }
    syntax(walk.key, walk.column, describe(walk.code, walk.context));
  }
  syntax("", 0, describe(simdjson::error_code(code), nullptr));
}

void JsonLine::parse(std::string_view text, const std::string& file, long line) {
  file_ = &file;
  line_ = line;
  fields_.clear();
  numbers_.clear();
  strings_.clear();
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy (a
  // memcpy of the line, small beside the parse).
  if (padded_.size() < text.size() + simdjson::SIMDJSON_PADDING) padded_.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded_.data(), text.data(), text.size());
  std::memset(padded_.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0)
    syntax("", 1, "a UTF-8 byte-order mark inside the file (only the file's very start may have one)");

  dom::element root;
  if (const auto e = parser_->dom.parse(padded_.data(), text.size(), false).get(root)) locate_error(text.size(), e);
  dom::object object;
  if (root.get_object().get(object)) syntax("", 1, "expected '{' (one JSON object per line)");
  for (const dom::key_value_pair member : object) {
    if (find(member.key)) syntax(member.key, 0, "duplicate key \"" + std::string(member.key) + "\"");
    Field field;
    field.key = member.key;
    const dom::element value = member.value;
    switch (value.type()) {
      case dom::element_type::OBJECT: field.kind = Kind::object; break;
      case dom::element_type::NULL_VALUE: field.kind = Kind::null; break;
      case dom::element_type::BOOL:
        field.kind = Kind::boolean;
        field.flag = value.get_bool().value_unsafe();
        break;
      case dom::element_type::STRING:
        field.kind = Kind::string;
        field.text = value.get_string().value_unsafe();
        break;
      case dom::element_type::UINT64:
        field.kind = Kind::number;
        field.number_kind = NumberKind::unsigned_integer;
        field.u = value.get_uint64().value_unsafe();
        break;
      case dom::element_type::INT64:
        field.kind = Kind::number;
        field.number_kind = NumberKind::signed_integer;
        field.i = value.get_int64().value_unsafe();
        break;
      case dom::element_type::DOUBLE:
        field.kind = Kind::number;
        field.number_kind = NumberKind::floating;
        field.d = value.get_double().value_unsafe();
        break;
      case dom::element_type::ARRAY: {
        field.kind = Kind::array;
        bool ints = true, strings = true, any = false;
        const auto number_begin = numbers_.size();
        const auto string_begin = strings_.size();
        dom::array items;
        if (value.get_array().get(items)) break;  // cannot fail: the type is known
        for (const dom::element item : items) {
          any = true;
          // Hash ids first: one type test for an integer that fits in 64 bits unsigned
          // (UINT64, or a non-negative INT64), where the switch below takes two (element
          // type, then the value's); that switch sees only what is left.
          std::uint64_t id = 0;
          if (item.get_uint64().get(id) == simdjson::SUCCESS) {
            numbers_.push_back(id);
            strings = false;
            continue;
          }
          switch (item.type()) {
            case dom::element_type::UINT64:
              numbers_.push_back(item.get_uint64().value_unsafe());
              strings = false;
              break;
            case dom::element_type::INT64: {
              const std::int64_t v = item.get_int64().value_unsafe();
              if (v >= 0) numbers_.push_back(std::uint64_t(v));
              else ints = false;
              strings = false;
              break;
            }
            case dom::element_type::STRING:
              strings_.push_back(item.get_string().value_unsafe());
              ints = false;
              break;
            default: ints = strings = false; break;
          }
        }
        if (!any) {
          field.array_kind = ArrayKind::empty;
        } else if (ints) {
          field.array_kind = ArrayKind::unsigned_integers;
          field.begin = std::uint32_t(number_begin);
          field.size = std::uint32_t(numbers_.size() - number_begin);
        } else if (strings) {
          field.array_kind = ArrayKind::strings;
          field.begin = std::uint32_t(string_begin);
          field.size = std::uint32_t(strings_.size() - string_begin);
        } else {
          field.array_kind = ArrayKind::other;
        }
        break;
      }
    }
    fields_.push_back(field);
  }
}

bool JsonLine::try_parse(std::string_view text) {
  static const std::string name = "<detect>";
  try {
    parse(text, name, 0);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

const JsonLine::Field* JsonLine::find(std::string_view key) const {
  for (const auto& f : fields_)
    if (f.key == key) return &f;
  return nullptr;
}

bool JsonLine::present(std::string_view key) const {
  const Field* f = find(key);
  return f && f->kind != Kind::null;
}

const JsonLine::Field& JsonLine::require(std::string_view key, Kind kind, const char* expected) const {
  const Field* f = find(key);
  if (!f) fail(key, std::string("missing field (expected ") + expected + ")");
  if (f->kind != kind) fail(key, std::string("expected ") + expected + ", got " + kind_name(f->kind));
  return *f;
}

std::string JsonLine::number_text(const Field& f) {
  char buffer[64];
  const auto end = f.number_kind == NumberKind::unsigned_integer ? std::to_chars(buffer, buffer + sizeof buffer, f.u).ptr
                   : f.number_kind == NumberKind::signed_integer ? std::to_chars(buffer, buffer + sizeof buffer, f.i).ptr
                                                                 : std::to_chars(buffer, buffer + sizeof buffer, f.d).ptr;
  return std::string(buffer, end);
}

double JsonLine::number(std::string_view key) const {
  const Field& f = require(key, Kind::number, "a number");
  switch (f.number_kind) {
    case NumberKind::unsigned_integer: return double(f.u);
    case NumberKind::signed_integer: return double(f.i);
    case NumberKind::floating: break;
  }
  if (!std::isfinite(f.d)) fail(key, "expected a finite number, got " + number_text(f));
  return f.d;
}

std::uint64_t JsonLine::unsigned_integer(std::string_view key) const {
  const Field& f = require(key, Kind::number, "a non-negative integer");
  if (f.number_kind == NumberKind::unsigned_integer) return f.u;
  if (f.number_kind == NumberKind::signed_integer && f.i >= 0) return std::uint64_t(f.i);
  fail(key, "expected a non-negative integer, got " + number_text(f));
}

std::int64_t JsonLine::integer(std::string_view key) const {
  const Field& f = require(key, Kind::number, "an integer");
  if (f.number_kind == NumberKind::signed_integer) return f.i;
  if (f.number_kind == NumberKind::unsigned_integer && f.u <= std::uint64_t(std::numeric_limits<std::int64_t>::max()))
    return std::int64_t(f.u);
  fail(key, "expected an integer, got " + number_text(f));
}

std::string_view JsonLine::string(std::string_view key) const { return require(key, Kind::string, "a string").text; }

bool JsonLine::boolean(std::string_view key) const { return require(key, Kind::boolean, "true or false").flag; }

std::span<const std::uint64_t> JsonLine::unsigned_array(std::string_view key) const {
  const Field& f = require(key, Kind::array, "an array of non-negative integers");
  if (f.array_kind == ArrayKind::empty) return {};
  if (f.array_kind != ArrayKind::unsigned_integers)
    fail(key, "expected an array of non-negative integers (at most 2^64-1)");
  return std::span<const std::uint64_t>(numbers_).subspan(f.begin, f.size);
}

std::vector<std::string> JsonLine::string_array(std::string_view key) const {
  const Field& f = require(key, Kind::array, "an array of strings");
  if (f.array_kind == ArrayKind::empty) return {};
  if (f.array_kind != ArrayKind::strings) fail(key, "expected an array of strings");
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < f.size; ++i) out.emplace_back(strings_[f.begin + i]);
  return out;
}

}  // namespace kvsim::workload
