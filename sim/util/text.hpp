// Small text helpers shared by the config loader, the trace readers and writers, the
// generators and the analysis output, so each exists once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kvsim {

// s without leading blanks (space, tab) and trailing blanks or carriage return.
std::string_view strip_blanks(std::string_view s);
// Plain comma split with each field stripped; the supported tables have no quoted fields.
std::vector<std::string_view> split_csv(std::string_view line);
// The JSON writing helpers of every kvsim JSON output (trace stats, cache replay, trace
// writers), so quoting and number formatting exist once:
// text as a JSON string literal, quotes included (", \ and control characters escaped).
std::string json_quote(std::string_view text);
// value as a JSON number in the shortest form that reads back as exactly the same double
// (std::to_chars: 0.1, not 0.10000000000000001); null when it is not finite.
std::string json_number(double value);
// Files read whole (configs, cards, specs) are refused above this size.
inline constexpr std::size_t kMaxTextFileBytes = std::size_t{64} << 20;
// The whole file; an InputError(path, 0, field, cannot_open) when it cannot be opened, and
// an InputError naming the path when it is a directory, unreadable or above kMaxTextFileBytes.
std::string read_text_file(const std::string& path, const std::string& field,
                           const std::string& cannot_open = "cannot open file");

}  // namespace kvsim
