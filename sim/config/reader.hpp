// Typed, validated reading of a TOML config document.
//
// A Section wraps one TOML table. Each accessor reads one key with its default, unit, bounds
// and help text, and at the same time
//   * records the resolved value (default filled in, SI units) into the run's resolved
//     config, which is written into the results file, and
//   * records a ParamDoc, so `kvsim describe` is generated from the same code that parses.
// finish() rejects every key that no accessor asked for, naming file, line and dotted key
// and suggesting the closest valid key. Errors are kvsim::InputError.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "sim/config/units.hpp"
#include "sim/util/error.hpp"

namespace kvsim::config {

struct ParamDoc {
  std::string key;            // dotted key relative to the documented section
  std::string type;           // "number", "integer", "boolean", "string", "duration", ...
  std::string default_value;  // rendered default
  std::string unit;           // SI unit or ""
  std::string help;
};

// Inclusive/exclusive bounds for numbers.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;

  static Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true}; }
  static Range non_negative() { return {0.0, std::numeric_limits<double>::infinity(), false}; }
  static Range fraction() { return {0.0, 1.0, false}; }
  static Range at_least(double v) { return {v, std::numeric_limits<double>::infinity(), false}; }
  static Range between(double lo, double hi) { return {lo, hi, false}; }
};

// Shared state of one parse: where resolved values and docs go.
struct ReadContext {
  std::string default_source = "<config>";  // used when a node carries no source path
  toml::table resolved;                      // resolved config, filled as keys are read
  std::vector<ParamDoc> docs;                // parameters met so far, in reading order
  bool record_resolved = true;
  std::set<std::string, std::less<>> size_keys;  // dotted keys of sizes in bytes, for to_toml_text
};

class Section {
 public:
  // path: dotted path of this table in the document ("" for the root).
  Section(const toml::table* table, std::string path, std::shared_ptr<ReadContext> context);

  // A number with a physical dimension; accepts bare numbers (SI) and unit strings.
  double quantity(std::string_view key, Dimension dim, double default_value, std::string_view help,
                  Range range = Range::non_negative());
  // A plain real number.
  double number(std::string_view key, double default_value, std::string_view help,
                Range range = {});
  std::int64_t integer(std::string_view key, std::int64_t default_value, std::string_view help,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
  // A non-negative integer over the whole uint64 range (seeds). TOML integers stop at
  // 2^63-1, so larger values are accepted as decimal strings ("18446744073709551615").
  std::uint64_t unsigned_integer(std::string_view key, std::uint64_t default_value, std::string_view help);
  bool flag(std::string_view key, bool default_value, std::string_view help);
  std::string text(std::string_view key, std::string_view default_value, std::string_view help);
  // A string that must be one of choices; a wrong one lists the valid ones.
  std::string choice(std::string_view key, std::string_view default_value,
                     std::span<const std::string> choices, std::string_view help);

  bool has(std::string_view key) const;
  // A sub-table; a missing one yields an empty section (all defaults). A non-table is an error.
  Section table(std::string_view key);
  // An array of tables ([[key]] entries), one section per entry named key[i]; empty when
  // absent. Anything else is an error.
  std::vector<Section> tables(std::string_view key);
  // A sub-table layered over a card: keys present in the sub-table override the card's, the
  // card supplies the rest. Both are checked for unknown keys, each at its own file and line.
  Section layered(std::string_view key, const toml::table* card);
  // Fails with "missing required key" unless the key is present (in either layer).
  void require(std::string_view key) const;
  // Marks key as used and returns its node (or nullptr) for callers with custom parsing.
  const toml::node* raw(std::string_view key);

  // Error about key of this section, located at the key's node (or at the table).
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;
  // Rejects keys that were never read. Call once all accessors have run.
  void finish() const;

  const std::string& path() const { return path_; }
  std::string dotted(std::string_view key) const;
  ReadContext& context() const { return *context_; }

 private:
  const toml::node* find(std::string_view key) const;
  void record(std::string_view key, toml::node&& value, std::string type, std::string default_text,
              std::string unit, std::string_view help);
  [[noreturn]] void fail_at(const toml::node* node, std::string_view key,
                            const std::string& message) const;

  const toml::table* table_;  // may be null: empty section
  const toml::table* card_ = nullptr;  // lower layer (see layered), may be null
  std::string path_;
  std::shared_ptr<ReadContext> context_;
  std::shared_ptr<std::vector<std::string>> used_;
};

// Parses TOML text; syntax errors become InputError with source and line.
toml::table parse_toml(std::string_view text, const std::string& source_name);

// Applies a command-line override "dotted.key=value" to doc. The value is parsed as a TOML
// value when it is one (12, 0.5, true, "x", [1,2]) and taken as a string otherwise
// ("80GiB"). Intermediate tables are created. In an array of tables, the component after
// its name picks one table by 0-based index or by its `name` key (instances.decode.count=24).
void apply_override(toml::table& doc, std::string_view assignment);

// Closest candidate by edit distance, or "" when nothing is reasonably close.
std::string closest_match(std::string_view word, std::span<const std::string> candidates);

// Renders a table as TOML text: numbers with the shortest digits that read back exactly.
std::string to_toml_text(const toml::table& table);
// The resolved config of a parse as TOML text (the --print-config output and the results
// file's config attribute): as above, and sizes that are whole binary units as strings
// such as "80GiB", which read back to the same number of bytes.
std::string to_toml_text(const ReadContext& context);

}  // namespace kvsim::config
