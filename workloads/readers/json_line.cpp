// JSON-lines parser (see json_line.hpp for what it accepts and why it exists).
#include "workloads/readers/json_line.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "sim/util/error.hpp"

namespace kvsim::workload {

namespace {

constexpr int kMaxDepth = 64;  // nested values we skip; deeper is certainly not a trace

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

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

}  // namespace

void JsonLine::syntax(const std::string& message) const {
  throw InputError(*file_, line_, current_key_.empty() ? "json" : std::string(current_key_),
                   "invalid JSON at column " + std::to_string(pos_ + 1) + ": " + message);
}

void JsonLine::fail(std::string_view key, const std::string& message) const {
  throw InputError(file_ ? *file_ : std::string(), line_, std::string(key), message);
}

void JsonLine::skip_space() {
  while (pos_ < text_.size() &&
         (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n'))
    ++pos_;
}

std::string_view JsonLine::parse_string() {
  // Precondition: text_[pos_] == '"'.
  const std::size_t start = ++pos_;
  // Fast path: no escapes, the contents are a view into the line.
  while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\') {
    if (static_cast<unsigned char>(text_[pos_]) < 0x20) syntax("control character inside a string");
    ++pos_;
  }
  if (pos_ >= text_.size()) syntax("unterminated string");
  if (text_[pos_] == '"') return text_.substr(start, pos_++ - start);

  std::string& out = unescaped_.emplace_back(text_.substr(start, pos_ - start));
  auto hex4 = [&]() -> std::uint32_t {
    if (pos_ + 4 > text_.size()) syntax("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      v <<= 4;
      if (is_digit(c)) v |= std::uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= std::uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= std::uint32_t(c - 'A' + 10);
      else syntax("expected 4 hex digits after \\u");
    }
    return v;
  };
  while (true) {
    if (pos_ >= text_.size()) syntax("unterminated string");
    const char c = text_[pos_++];
    if (c == '"') return out;
    if (static_cast<unsigned char>(c) < 0x20) syntax("control character inside a string");
    if (c != '\\') {
      out += c;
      continue;
    }
    if (pos_ >= text_.size()) syntax("unterminated escape");
    switch (const char e = text_[pos_++]) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00) {
          if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
            syntax("unpaired surrogate in \\u escape");
          pos_ += 2;
          const std::uint32_t low = hex4();
          if (low < 0xDC00 || low >= 0xE000) syntax("invalid low surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: --pos_; syntax(std::string("invalid escape \\") + e);
    }
  }
}

std::string_view JsonLine::parse_number() {
  const std::size_t start = pos_;
  if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
  if (pos_ >= text_.size() || !is_digit(text_[pos_])) syntax("expected a value");
  if (text_[pos_] == '0') {
    ++pos_;
  } else {
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (pos_ >= text_.size() || !is_digit(text_[pos_])) syntax("expected digits after the decimal point");
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (pos_ >= text_.size() || !is_digit(text_[pos_])) syntax("expected digits in the exponent");
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
  }
  return text_.substr(start, pos_ - start);
}

void JsonLine::parse_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) syntax("expected a value");
  pos_ += word.size();
}

void JsonLine::skip_value(int depth) {
  if (depth > kMaxDepth) syntax("values nested too deeply");
  skip_space();
  if (pos_ >= text_.size()) syntax("expected a value");
  const char c = text_[pos_];
  if (c == '"') {
    parse_string();
  } else if (c == '{' || c == '[') {
    const char close = c == '{' ? '}' : ']';
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == close) {
      ++pos_;
      return;
    }
    while (true) {
      if (c == '{') {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '"') syntax("expected a key string");
        parse_string();
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != ':') syntax("expected ':'");
        ++pos_;
      }
      skip_value(depth + 1);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == close) {
        ++pos_;
        return;
      }
      syntax(std::string("expected ',' or '") + close + "'");
    }
  } else if (c == 't') {
    parse_literal("true");
  } else if (c == 'f') {
    parse_literal("false");
  } else if (c == 'n') {
    parse_literal("null");
  } else {
    parse_number();
  }
}

void JsonLine::parse_array(Field& field) {
  // Precondition: text_[pos_] == '['.
  ++pos_;
  field.kind = Kind::array;
  field.array_kind = ArrayKind::empty;
  skip_space();
  if (pos_ < text_.size() && text_[pos_] == ']') {
    ++pos_;
    return;
  }
  bool ints = true, strings = true;
  const auto number_begin = numbers_.size();
  const auto string_begin = strings_.size();
  while (true) {
    skip_space();
    if (pos_ >= text_.size()) syntax("unterminated array");
    const char c = text_[pos_];
    if (c == '"') {
      strings_.push_back(parse_string());
      ints = false;
    } else if (c == '-' || is_digit(c)) {
      const std::string_view digits = parse_number();
      std::uint64_t v = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec == std::errc() && end == digits.data() + digits.size())
        numbers_.push_back(v);
      else
        ints = false;  // negative, fractional or beyond 2^64-1
      strings = false;
    } else {
      skip_value(1);
      ints = strings = false;
    }
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      break;
    }
    syntax("expected ',' or ']' in the array");
  }
  if (ints) {
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
}

void JsonLine::parse(std::string_view text, const std::string& file, long line) {
  text_ = text;
  pos_ = 0;
  file_ = &file;
  line_ = line;
  current_key_ = {};
  fields_.clear();
  numbers_.clear();
  strings_.clear();
  unescaped_.clear();

  skip_space();
  if (pos_ >= text_.size() || text_[pos_] != '{') syntax("expected '{' (one JSON object per line)");
  ++pos_;
  skip_space();
  if (pos_ < text_.size() && text_[pos_] == '}') {
    ++pos_;
  } else {
    while (true) {
      skip_space();
      current_key_ = {};
      if (pos_ >= text_.size() || text_[pos_] != '"') syntax("expected a key string");
      const std::string_view key = parse_string();
      current_key_ = key;
      if (find(key)) syntax("duplicate key \"" + std::string(key) + "\"");
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') syntax("expected ':' after the key");
      ++pos_;
      skip_space();
      if (pos_ >= text_.size()) syntax("expected a value");
      Field field;
      field.key = key;
      const char c = text_[pos_];
      if (c == '"') {
        field.kind = Kind::string;
        field.text = parse_string();
      } else if (c == '[') {
        parse_array(field);
      } else if (c == '{') {
        field.kind = Kind::object;
        skip_value(0);
      } else if (c == 't') {
        parse_literal("true");
        field.kind = Kind::boolean;
        field.flag = true;
      } else if (c == 'f') {
        parse_literal("false");
        field.kind = Kind::boolean;
      } else if (c == 'n') {
        parse_literal("null");
        field.kind = Kind::null;
      } else {
        field.kind = Kind::number;
        field.text = parse_number();
      }
      fields_.push_back(field);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        break;
      }
      syntax("expected ',' or '}'");
    }
  }
  current_key_ = {};
  skip_space();
  if (pos_ != text_.size()) syntax("unexpected text after the object");
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

double JsonLine::number(std::string_view key) const {
  const Field& f = require(key, Kind::number, "a number");
  double v = 0;
  const auto [end, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
  if (ec != std::errc() || !std::isfinite(v))
    fail(key, "expected a finite number, got " + std::string(f.text));
  return v;
}

std::uint64_t JsonLine::unsigned_integer(std::string_view key) const {
  const Field& f = require(key, Kind::number, "a non-negative integer");
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
  if (ec != std::errc() || end != f.text.data() + f.text.size())
    fail(key, "expected a non-negative integer, got " + std::string(f.text));
  return v;
}

std::int64_t JsonLine::integer(std::string_view key) const {
  const Field& f = require(key, Kind::number, "an integer");
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
  if (ec != std::errc() || end != f.text.data() + f.text.size())
    fail(key, "expected an integer, got " + std::string(f.text));
  return v;
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
