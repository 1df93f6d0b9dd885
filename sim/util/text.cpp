#include "sim/util/text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sim/util/error.hpp"

namespace kvsim {

std::string_view strip_blanks(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    const auto comma = line.find(',');
    fields.push_back(strip_blanks(line.substr(0, comma)));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

std::string read_text_file(const std::string& path, const std::string& field, const std::string& cannot_open) {
  // An ifstream opens a directory without complaint and reads nothing, which would make a
  // directory look like an empty config.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, 0, field, "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, field, cannot_open);
  // Bounded, so that /dev/zero or a huge file given by mistake fails instead of exhausting memory.
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxTextFileBytes)
      throw InputError(path, 0, field,
                       "is larger than " + std::to_string(kMaxTextFileBytes >> 20) + " MiB, which no config file is");
  }
  if (in.bad()) throw InputError(path, 0, field, "cannot read the file");
  return text;
}

}  // namespace kvsim
