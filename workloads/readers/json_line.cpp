// JSON-lines parsing on simdjson (see json_line.hpp). The fast path is simdjson's
// On-Demand API, which reads values straight off the line into this JsonLine's fields (no
// DOM tape in between; its stage 1 is dispatched to the CPU's best kernels at run time and
// the rest, number and string parsing, is scalar code either way). It takes only lines it
// can check completely: every value it accepts it has parsed, and any surprise (an error,
// a nested object, a mixed or nested array, a duplicate key, text after the object) sends
// the line to the DOM parser, which validates the whole line and decides. So a line is
// accepted exactly when the DOM parser accepts it, with the same values, and every error
// is the DOM path's. A line the DOM parser rejects is walked again with On-Demand, which
// stops where the error is, so the message can name the key, the column and what was
// expected there.
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
  ondemand::parser ondemand;
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

bool json_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Whether the 8 bytes at p are all ASCII digits.
bool eight_digits(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  // Each byte 0x30-0x39: high nibble 3, and adding 6 does not carry into it.
  return ((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ==
         0x3333333333333333ULL;
}

// How many of the 8 bytes at p are ASCII digits before the first that is not (8 if all).
unsigned leading_digits(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  // A byte of x is zero exactly when that byte of v is a digit (as in eight_digits: a carry
  // out of a non-digit byte can only mark bytes after it, which are not counted).
  const std::uint64_t x =
      ((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ^ 0x3333333333333333ULL;
  // High bit of each non-zero byte of x (no carry between bytes: (b & 0x7f) + 0x7f < 0x100).
  const std::uint64_t nonzero = (((x & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | x) & 0x8080808080808080ULL;
  return nonzero == 0 ? 8 : unsigned(__builtin_ctzll(nonzero)) / 8;
}

constexpr std::uint64_t kPowersOfTen[] = {1, 10, 100, 1000, 10000};

// The value of the n <= 4 ASCII digits at p: they are placed as the last digits of a
// 4-digit group whose first ones are '0', then combined in two multiply steps.
std::uint64_t up_to_four_digit_value(const char* p, unsigned n) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  std::uint64_t group = ((v << (8 * (4 - n))) & 0xFFFFFFFFULL) | (0x30303030ULL >> (8 * n));
  group -= 0x30303030ULL;
  group = (group * 10 + (group >> 8)) & 0x00FF00FFULL;
  return (group * 100 + (group >> 16)) & 0xFFFFULL;
}

// The value of 8 ASCII digits at p (most significant first), three multiply steps instead of
// eight: pairs of digits, then pairs of those, then the two halves.
std::uint64_t eight_digit_value(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  v -= 0x3030303030303030ULL;                                           // digits d0..d7, d0 in the low byte
  v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;                      // 10 d0 + d1, ... in 16-bit lanes
  v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;                    // 4-digit groups in 32-bit lanes
  return (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;                       // the 8-digit value
}

// Reads a JSON array of non-negative integers ("[1, 22, 333]", blanks allowed between
// tokens) starting at p, into out; `stop` is then just after its ']'. False for anything
// else, including numbers JSON forbids (leading zeros) or beyond 2^64-1: the caller then
// lets the DOM parser decide. Why not simdjson's own get_uint64() per element: it reads one
// digit per step, and hash ids are 20-digit numbers (~60 per request); 8 digits per step
// makes the line 2x faster. [p, end) must be followed by 8 readable bytes (simdjson's padding).
bool read_unsigned_array(const char* p, const char* const end, std::vector<std::uint64_t>& out, const char*& stop) {
  if (p == end || *p++ != '[') return false;
  while (p != end && json_blank(*p)) ++p;
  if (p != end && *p == ']') {
    ++p;
  } else {
    while (true) {
      const char* const first = p;
      std::uint64_t value = 0;
      if (end - p >= 16 && eight_digits(p) && eight_digits(p + 8)) {
        // 16 to 20 digits (64-bit hash ids): two independent 8-digit steps, then the 0-4
        // digits left without a branch per digit (19 or 20 digits is a coin toss for a
        // hash, which a digit loop would mispredict).
        const unsigned more = leading_digits(p + 16);
        if (more > 4 || p + 16 + more > end) return false;  // beyond 2^64-1, or past the text
        const std::uint64_t high = eight_digit_value(p) * 100000000 + eight_digit_value(p + 8);
        if (__builtin_mul_overflow(high, kPowersOfTen[more], &value) ||
            __builtin_add_overflow(value, up_to_four_digit_value(p + 16, more), &value))
          return false;
        p += 16 + more;
      } else {
        // Short numbers (dense ids): one digit per step, at most 15 of them here.
        for (; p != end && *p >= '0' && *p <= '9'; ++p) {
          if (p - first >= 15) return false;
          value = value * 10 + std::uint64_t(*p - '0');
        }
      }
      if (p == first || (*first == '0' && p - first > 1)) return false;
      out.push_back(value);
      // The separator as writers spell it, ", " (padding makes p[1] readable).
      if (end - p > 2 && p[0] == ',' && p[1] == ' ' && p[2] != ' ') {
        p += 2;
        continue;
      }
      while (p != end && json_blank(*p)) ++p;
      if (p == end) return false;
      if (*p == ']') {
        ++p;
        break;
      }
      if (*p++ != ',') return false;
      while (p != end && json_blank(*p)) ++p;
    }
  }
  stop = p;
  return true;
}

const char* skip_blanks(const char* p, const char* end) {
  while (p != end && json_blank(*p)) ++p;
  return p;
}

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

  if (parse_on_demand(text.size())) return;
  fields_.clear();  // what the fast path read before it gave up
  numbers_.clear();
  strings_.clear();
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

bool JsonLine::parse_on_demand(std::size_t length) {
  ondemand::document document;
  if (parser_->ondemand.iterate(padded_.data(), length, padded_.size()).get(document)) return false;
  ondemand::object object;
  if (document.get_object().get(object)) return false;
  for (auto member : object) {
    ondemand::field f;
    std::string_view key;
    if (std::move(member).get(f) || f.unescaped_key().get(key) || find(key)) return false;
    // Built in place: a Field assembled on the stack and copied in costs more than the
    // value it carries (partial stores read back as whole words stall the store buffer).
    Field& field = fields_.emplace_back();
    field.key = key;
    ondemand::value value = f.value();
    ondemand::json_type type;
    if (value.type().get(type)) return false;
    switch (type) {
      case ondemand::json_type::object: return false;  // skipped by the DOM path, which checks it
      case ondemand::json_type::null: {
        bool null = false;
        if (value.is_null().get(null) || !null) return false;
        field.kind = Kind::null;
        break;
      }
      case ondemand::json_type::boolean:
        if (value.get_bool().get(field.flag)) return false;
        field.kind = Kind::boolean;
        break;
      case ondemand::json_type::string:
        if (value.get_string().get(field.text)) return false;
        field.kind = Kind::string;
        break;
      case ondemand::json_type::number: {
        ondemand::number n;
        if (value.get_number().get(n)) return false;
        field.kind = Kind::number;
        switch (n.get_number_type()) {
          case ondemand::number_type::unsigned_integer:
            field.number_kind = NumberKind::unsigned_integer;
            field.u = n.get_uint64();
            break;
          case ondemand::number_type::signed_integer:
            field.number_kind = NumberKind::signed_integer;
            field.i = n.get_int64();
            break;
          case ondemand::number_type::floating_point_number:
            field.number_kind = NumberKind::floating;
            field.d = n.get_double();
            break;
          default: return false;
        }
        break;
      }
      case ondemand::json_type::array: {
        // Arrays of non-negative integers (hash ids: the bulk of a trace) are read here;
        // anything else (strings, mixed) is the DOM path's.
        // Read from the text: when the array closes the object and the line (as the hash
        // ids do in every format's writer), the line is complete here, and On-Demand need
        // not walk the array's ~120 structural characters again just to step over it.
        field.kind = Kind::array;
        const auto begin = numbers_.size();
        const char* const line_end = padded_.data() + length;
        const char* const start = value.raw_json_token().data();
        const char* stop = nullptr;
        if (!read_unsigned_array(start, line_end, numbers_, stop)) return false;
        field.begin = std::uint32_t(begin);
        field.size = std::uint32_t(numbers_.size() - begin);
        field.array_kind = field.size == 0 ? ArrayKind::empty : ArrayKind::unsigned_integers;
        stop = skip_blanks(stop, line_end);
        if (stop != line_end && *stop == '}' && skip_blanks(stop + 1, line_end) == line_end) return true;
        // Not the last value: step over it, checking that simdjson sees the same array.
        ondemand::array items;
        std::string_view raw;
        if (value.get_array().get(items) || items.raw_json().get(raw) || raw.data() != start ||
            raw.data() + raw.size() != stop)
          return false;
        break;
      }
    }
  }
  // The object must be all of the line.
  const char* end = nullptr;
  return document.current_location().get(end) == simdjson::OUT_OF_BOUNDS;
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
  // Size and first byte first: keys of equal length (arrival, session) rarely share it, and
  // memcmp is a call per comparison (a dozen lookups per line, each over a dozen keys).
  for (const auto& f : fields_)
    if (f.key.size() == key.size() && (key.empty() || f.key[0] == key[0]) && f.key == key) return &f;
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
