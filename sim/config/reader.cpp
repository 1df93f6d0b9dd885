#include "sim/config/reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <cstdio>
#include <sstream>

namespace kvsim::config {

namespace {

std::string render_number(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

// A default as documented: a size that is a whole binary unit as written in a config
// ("1GiB", not "1.074 GB"), anything else with a decimal prefix.
std::string default_quantity_text(double value, Dimension dim) {
  if (dim == Dimension::bytes)
    if (auto binary = binary_size_text(value); !binary.empty()) return binary;
  return format_quantity(value, dim);
}

std::string node_source(const toml::node* node, const std::string& fallback) {
  if (node && node->source().path && !node->source().path->empty()) return *node->source().path;
  return fallback;
}

// Values given on the command line (--set) carry the pseudo-source "--set"; they have no line.
long node_line(const toml::node* node) {
  if (!node || (node->source().path && node->source().path->starts_with("--set"))) return 0;
  return static_cast<long>(node->source().begin.line);
}

std::string describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

// A TOML float or integer as a double (TOML keeps "3" and "3.0" apart; config does not).
std::optional<double> plain_number(const toml::node& node) {
  if (auto v = node.value_exact<double>()) return *v;
  if (auto i = node.value_exact<std::int64_t>()) return static_cast<double>(*i);
  return std::nullopt;
}

std::string range_text(const Range& r) {
  const bool has_min = std::isfinite(r.min), has_max = std::isfinite(r.max);
  if (has_min && has_max) return "between " + render_number(r.min) + " and " + render_number(r.max);
  if (has_min) return std::string(r.min_exclusive ? "> " : ">= ") + render_number(r.min);
  if (has_max) return "<= " + render_number(r.max);
  return "a finite number";
}

bool in_range(double v, const Range& r) {
  if (!std::isfinite(v)) return false;
  if (r.min_exclusive ? !(v > r.min) : !(v >= r.min)) return false;
  return v <= r.max;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

Section::Section(const toml::table* table, std::string path, std::shared_ptr<ReadContext> context)
    : table_(table),
      path_(std::move(path)),
      context_(std::move(context)),
      used_(std::make_shared<std::vector<std::string>>()) {}

std::string Section::dotted(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const toml::node* Section::find(std::string_view key) const {
  const toml::node* node = table_ ? table_->get(key) : nullptr;
  if (!node && card_) node = card_->get(key);
  return node;
}

void Section::require(std::string_view key) const {
  if (!has(key)) fail(key, "missing required key");
}

bool Section::has(std::string_view key) const { return find(key) != nullptr; }

const toml::node* Section::raw(std::string_view key) {
  used_->emplace_back(key);
  return find(key);
}

void Section::fail_at(const toml::node* node, std::string_view key, const std::string& message) const {
  if (!node) node = table_ ? table_ : card_;
  throw InputError(node_source(node, context_->default_source), node_line(node), dotted(key), message);
}

void Section::fail(std::string_view key, const std::string& message) const { fail_at(find(key), key, message); }

void Section::record(std::string_view key, toml::node&& value, std::string type, std::string default_text,
                     std::string unit, std::string_view help) {
  const std::string full = dotted(key);
  if (context_->record_resolved) {
    // Walk/create the tables along the dotted path of this section.
    toml::table* target = &context_->resolved;
    std::string_view rest = path_;
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      const std::string part(rest.substr(0, dot));
      auto [it, inserted] = target->insert(part, toml::table{});
      (void)inserted;
      target = it->second.as_table();
      rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
    target->insert_or_assign(key, std::move(value));
  }
  const bool seen = std::any_of(context_->docs.begin(), context_->docs.end(),
                                [&](const ParamDoc& d) { return d.key == full; });
  // In a layered section the real default is the card's value, not the code's fallback.
  if (card_) default_text = "from the card";
  if (!seen)
    context_->docs.push_back({full, std::move(type), std::move(default_text), std::move(unit), std::string(help)});
}

double Section::quantity(std::string_view key, Dimension dim, double default_value, std::string_view help,
                         Range range) {
  const toml::node* node = raw(key);
  double value = default_value;
  if (node) {
    if (auto v = plain_number(*node)) {
      value = *v;
      // A bare number is SI; one far below any real size or rate is a forgotten unit.
      if (value != 0 && std::fabs(value) < bare_number_floor(dim))
        fail_at(node, key, "a number without a unit is in " + std::string(si_unit(dim)) + ", and " + render_number(value) +
                               " " + std::string(si_unit(dim)) + " is implausibly small for " +
                               std::string(dimension_name(dim)) + "; write the unit, e.g. \"" + render_number(value) +
                               std::string(likely_unit(dim)) + "\"");
    } else if (auto s = node->value_exact<std::string>()) {
      try {
        value = parse_quantity(*s, dim);
      } catch (const std::invalid_argument& e) {
        fail_at(node, key, e.what());
      }
    } else {
      fail_at(node, key,
              "expected " + std::string(dimension_name(dim)) + " (a number in " +
                  std::string(si_unit(dim).empty() ? "SI units" : si_unit(dim)) + " or a string such as \"" +
                  std::string(example_value(dim)) + "\"), got " + describe_type(*node));
    }
    if (!in_range(value, range))
      fail_at(node, key, "expected " + std::string(dimension_name(dim)) + " " + range_text(range) + " " +
                             std::string(si_unit(dim)) + ", got " + render_number(value));
  }
  if (dim == Dimension::bytes) context_->size_keys.insert(dotted(key));
  record(key, toml::value<double>(value), std::string(dimension_name(dim)).substr(2),
         dim == Dimension::dimensionless ? render_number(default_value) : default_quantity_text(default_value, dim),
         std::string(si_unit(dim)), help);
  return value;
}

double Section::number(std::string_view key, double default_value, std::string_view help, Range range) {
  const toml::node* node = raw(key);
  double value = default_value;
  if (node) {
    if (auto v = plain_number(*node))
      value = *v;
    else
      fail_at(node, key, "expected a number, got " + describe_type(*node));
    if (!in_range(value, range)) fail_at(node, key, "expected a number " + range_text(range) + ", got " + render_number(value));
  }
  record(key, toml::value<double>(value), "number", render_number(default_value), "", help);
  return value;
}

namespace {

// 2^63 and 2^64 as doubles (exact): a double converts to int64 / uint64 without undefined
// behaviour only when it lies below these.
constexpr double kTwoTo63 = 9223372036854775808.0;
constexpr double kTwoTo64 = 18446744073709551616.0;

// The whole number a TOML integer, float or count string ("10k", "1e30") stands for, as a
// double; nullopt when the node is none of these. Throws invalid_argument for a string that
// is not a count.
std::optional<double> count_value(const toml::node& node) {
  if (auto i = node.value_exact<std::int64_t>()) return static_cast<double>(*i);
  if (auto d = node.value_exact<double>()) return *d;
  if (auto s = node.value_exact<std::string>()) return parse_quantity(*s, Dimension::dimensionless);
  return std::nullopt;
}

bool digits_only(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string integer_bounds(std::int64_t min, std::int64_t max) {
  return max == std::numeric_limits<std::int64_t>::max() ? ">= " + std::to_string(min)
                                                         : "between " + std::to_string(min) + " and " + std::to_string(max);
}

}  // namespace

std::int64_t Section::integer(std::string_view key, std::int64_t default_value, std::string_view help,
                              std::int64_t min, std::int64_t max) {
  const toml::node* node = raw(key);
  std::int64_t value = default_value;
  if (node) {
    if (auto i = node->value_exact<std::int64_t>()) {
      value = *i;
    } else {
      // Floats and count strings ("10k", "1e30") go through a double, which is range-checked
      // before the conversion: casting an out-of-range double is undefined behaviour.
      std::optional<double> v;
      try {
        v = count_value(*node);
      } catch (const std::invalid_argument&) {
        fail_at(node, key, "expected an integer such as 4096 or \"10k\", got \"" + *node->value_exact<std::string>() + "\"");
      }
      if (!v) fail_at(node, key, "expected an integer, got " + describe_type(*node));
      if (std::floor(*v) != *v)
        fail_at(node, key, "expected a whole number " + integer_bounds(min, max) + ", got " + render_number(*v));
      if (!(*v >= static_cast<double>(min) && *v <= static_cast<double>(max) && *v < kTwoTo63))
        fail_at(node, key, "expected an integer " + integer_bounds(min, max) + ", got " + render_number(*v));
      value = static_cast<std::int64_t>(*v);
    }
    if (value < min || value > max)
      fail_at(node, key, "expected an integer " + integer_bounds(min, max) + ", got " + std::to_string(value));
  }
  record(key, toml::value<std::int64_t>(value), "integer", std::to_string(default_value), "", help);
  return value;
}

std::uint64_t Section::unsigned_integer(std::string_view key, std::uint64_t default_value, std::string_view help) {
  const toml::node* node = raw(key);
  std::uint64_t value = default_value;
  if (node) {
    const auto* text = node->as_string();
    std::uint64_t parsed = 0;
    if (auto i = node->value_exact<std::int64_t>()) {
      if (*i < 0) fail_at(node, key, "expected an integer between 0 and 2^64-1, got " + std::to_string(*i));
      value = static_cast<std::uint64_t>(*i);
    } else if (text && digits_only(text->get()) &&
               std::from_chars(text->get().data(), text->get().data() + text->get().size(), parsed).ec ==
                   std::errc()) {
      // Digits only: TOML integers stop at 2^63-1, so larger values come as strings
      // (--set and --seed produce one) and are read exactly, not through a double.
      value = parsed;
    } else {
      std::optional<double> v;
      try {
        v = count_value(*node);
      } catch (const std::invalid_argument&) {
        fail_at(node, key, "expected an integer between 0 and 2^64-1 such as 42, got \"" + text->get() + "\"");
      }
      if (!v) fail_at(node, key, "expected an integer, got " + describe_type(*node));
      if (!(*v >= 0 && *v < kTwoTo64 && std::floor(*v) == *v))
        fail_at(node, key, "expected an integer between 0 and 2^64-1 (18446744073709551615), got " +
                               (text ? "\"" + text->get() + "\"" : render_number(*v)));
      value = static_cast<std::uint64_t>(*v);
    }
  }
  // TOML integers are signed 64-bit: a value above 2^63-1 is recorded as its decimal
  // string, which this accessor reads back exactly.
  if (value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    record(key, toml::value<std::int64_t>(static_cast<std::int64_t>(value)), "integer", std::to_string(default_value),
           "", help);
  else
    record(key, toml::value<std::string>(std::to_string(value)), "integer", std::to_string(default_value), "", help);
  return value;
}

bool Section::flag(std::string_view key, bool default_value, std::string_view help) {
  const toml::node* node = raw(key);
  bool value = default_value;
  if (node) {
    if (auto b = node->value_exact<bool>())
      value = *b;
    else
      fail_at(node, key, "expected true or false, got " + describe_type(*node));
  }
  record(key, toml::value<bool>(value), "boolean", default_value ? "true" : "false", "", help);
  return value;
}

std::string Section::text(std::string_view key, std::string_view default_value, std::string_view help) {
  const toml::node* node = raw(key);
  std::string value(default_value);
  if (node) {
    if (auto s = node->value_exact<std::string>())
      value = *s;
    else
      fail_at(node, key, "expected a string, got " + describe_type(*node));
  }
  record(key, toml::value<std::string>(value), "string", "\"" + std::string(default_value) + "\"", "", help);
  return value;
}

std::string Section::choice(std::string_view key, std::string_view default_value,
                            std::span<const std::string> choices, std::string_view help) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  std::string documented(help);
  documented += (documented.ends_with('.') ? " One of: " : "; one of: ") + list + ".";
  const std::string value = text(key, default_value, documented);
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    std::string message = "unknown value \"" + value + "\"; valid values are: " + list;
    if (auto near = closest_match(value, choices); !near.empty()) message += " (did you mean \"" + near + "\"?)";
    fail(key, message);
  }
  return value;
}

Section Section::layered(std::string_view key, const toml::table* card) {
  Section section = table(key);
  section.card_ = card;
  return section;
}

Section Section::table(std::string_view key) {
  const toml::node* node = raw(key);
  if (node && !node->is_table()) fail_at(node, key, "expected a table, got " + describe_type(*node));
  return Section(node ? node->as_table() : nullptr, dotted(key), context_);
}

std::vector<Section> Section::tables(std::string_view key) {
  std::vector<Section> out;
  const toml::node* node = raw(key);
  if (!node) return out;
  const toml::array* array = node->as_array();
  if (!array) fail_at(node, key, "expected an array of tables ([[" + dotted(key) + "]]), got " + describe_type(*node));
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& entry = (*array)[i];
    if (!entry.is_table()) fail_at(&entry, key, "entry " + std::to_string(i + 1) + " is not a table");
    out.emplace_back(entry.as_table(), dotted(key) + "[" + std::to_string(i) + "]", context_);
  }
  return out;
}

void Section::finish() const {
  for (const toml::table* layer : {table_, card_}) {
    if (!layer) continue;
  for (const auto& [key, node] : *layer) {
    const std::string_view name = key.str();
    if (std::find(used_->begin(), used_->end(), name) != used_->end()) continue;
    std::string message = "unknown key";
    if (auto near = closest_match(name, *used_); !near.empty()) message += "; did you mean \"" + dotted(near) + "\"?";
    else if (!used_->empty()) {
      std::string valid;
      for (const auto& k : *used_) valid += (valid.empty() ? "" : ", ") + k;
      message += "; valid keys here: " + valid;
    }
    throw InputError(node_source(&node, context_->default_source), node_line(&node), dotted(name), message);
  }
  }
}

toml::table parse_toml(std::string_view text, const std::string& source_name) {
  try {
    return toml::parse(text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    throw InputError(source_name, static_cast<long>(e.source().begin.line), "",
                     "TOML syntax error: " + std::string(e.description()));
  }
}

namespace {

// The table of array `name` (an array of tables) that the first component of rest picks, by
// its 0-based index or by the value of its `name` key (instances.decode.count); rest is
// advanced past that component, which must not be the last one.
toml::table* array_element(toml::array& groups, const std::string& key, const std::string& name,
                           std::string_view& rest) {
  const auto dot = rest.find('.');
  const std::string pick(rest.substr(0, dot));
  if (dot == std::string_view::npos)
    throw InputError("--set", 0, key, "\"" + name + "." + pick + "\" is a whole [[" + name +
                                          "]] table: set one of its keys (" + name + "." + pick + ".KEY=VALUE)");
  rest = rest.substr(dot + 1);
  std::string names;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    toml::table* table = groups[i].as_table();
    const auto* own = table->get_as<std::string>("name");
    if (pick == std::to_string(i) || (own && own->get() == pick)) return table;
    names += (names.empty() ? "" : ", ") + (own ? own->get() : std::to_string(i));
  }
  throw InputError("--set", 0, key, "no [[" + name + "]] table \"" + pick + "\" (by 0-based index or name: " + names + ")");
}

}  // namespace

void apply_override(toml::table& doc, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw InputError("--set", 0, std::string(assignment), "expected KEY=VALUE, e.g. --set workload.rate=12");
  const std::string key(assignment.substr(0, eq));
  const std::string value_text(assignment.substr(eq + 1));

  // Parse the value as TOML ("x = <value>"); anything that is not a TOML value is a string,
  // which is what unit strings like 80GiB need.
  toml::table parsed;
  try {
    parsed = toml::parse("x = " + value_text, std::string_view("--set"));
  } catch (const toml::parse_error&) {
    // Re-parsed as a quoted TOML string rather than inserted directly, so the node carries
    // the "--set" source like every other override and errors point at the command line.
    std::string quoted = "x = \"";
    for (const char c : value_text) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        quoted.push_back('\\');
        quoted.push_back(c);
      } else if (u < 0x20 || u == 0x7f) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04X", unsigned{u});
        quoted += escape;
      } else {
        quoted.push_back(c);
      }
    }
    quoted.push_back('"');
    try {
      parsed = toml::parse(quoted, std::string_view("--set"));
    } catch (const toml::parse_error& e) {
      throw InputError("--set", 0, key, "cannot read the value: " + std::string(e.description()));
    }
  }
  toml::table* target = &doc;
  std::string_view rest = key;
  while (true) {
    const auto dot = rest.find('.');
    const std::string part(rest.substr(0, dot));
    if (part.empty()) throw InputError("--set", 0, key, "empty component in dotted key");
    if (dot == std::string_view::npos) {
      toml::node* value = parsed.get("x");
      target->insert_or_assign(part, std::move(*value));
      return;
    }
    auto [it, inserted] = target->insert(part, toml::table{});
    (void)inserted;
    rest = rest.substr(dot + 1);
    if (toml::array* groups = it->second.as_array(); groups && groups->is_array_of_tables()) {
      // An array of tables ([[instances]] groups): the next component picks one of them.
      target = array_element(*groups, key, part, rest);
      continue;
    }
    if (!it->second.is_table())
      throw InputError("--set", 0, key, "\"" + part + "\" is not a table in the config, cannot set a key below it");
    target = it->second.as_table();
  }
}

std::string closest_match(std::string_view word, std::span<const std::string> candidates) {
  const std::string lower_word = lowercase(word);
  // The candidate closest in length among those related to word.
  const auto best_by_length = [&](auto related) {
    std::string best;
    std::size_t best_gap = std::numeric_limits<std::size_t>::max();
    for (const auto& c : candidates) {
      const std::string lower = lowercase(c);
      if (!related(lower)) continue;
      const std::size_t gap = lower.size() > lower_word.size() ? lower.size() - lower_word.size()
                                                               : lower_word.size() - lower.size();
      if (gap < best_gap) {
        best_gap = gap;
        best = c;
      }
    }
    return best;
  };
  // A name that starts with, or contains, what was typed is what a user most likely meant
  // ("h100" -> "h100-sxm", not "h200" one edit away).
  if (auto best = best_by_length([&](const std::string& c) { return lower_word.size() >= 2 && c.starts_with(lower_word); });
      !best.empty())
    return best;
  if (auto best = best_by_length([&](const std::string& c) {
        return lower_word.size() >= 3 && c.find(lower_word) != std::string::npos;
      });
      !best.empty())
    return best;
  // Then a typo.
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(lower_word, lowercase(c));
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (!best.empty()) return best;
  // Last, a name that what was typed extends ("llama-3.1-8b-instruct" -> "llama-3.1-8b");
  // after typos, since a short key ("hbm") starts many longer mistyped ones.
  return best_by_length([&](const std::string& c) { return c.size() >= 3 && lower_word.starts_with(c); });
}

namespace {

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A TOML basic string: quote, backslash and control characters (DEL included) escaped.
std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04X", unsigned{u});
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string toml_key(std::string_view key) { return is_bare_key(key) ? std::string(key) : toml_quote(key); }

// A float as TOML: shortest round-trip digits, always recognisable as a float.
std::string toml_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string text = shortest_number(v);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

class TomlWriter {
 public:
  TomlWriter(std::ostream& out, const std::set<std::string, std::less<>>* size_keys) : out_(out), size_keys_(size_keys) {}

  void table(const toml::table& t, const std::string& path) {
    for (const auto& [key, node] : t) {
      if (node.is_table()) continue;
      const std::string dotted = path.empty() ? std::string(key.str()) : path + "." + std::string(key.str());
      out_ << toml_key(key.str()) << " = " << value(node, dotted) << "\n";
    }
    for (const auto& [key, node] : t) {
      if (!node.is_table()) continue;
      const std::string dotted = path.empty() ? toml_key(key.str()) : path + "." + toml_key(key.str());
      if (out_.tellp() > 0) out_ << "\n";
      out_ << "[" << dotted << "]\n";
      table(*node.as_table(), dotted);
    }
  }

 private:
  std::string value(const toml::node& node, const std::string& dotted) {
    std::ostringstream text;
    switch (node.type()) {
      case toml::node_type::string: return toml_quote(*node.value_exact<std::string>());
      case toml::node_type::integer: return std::to_string(*node.value_exact<std::int64_t>());
      case toml::node_type::floating_point: {
        const double v = *node.value_exact<double>();
        // Sizes that are whole binary units read as they were most likely written.
        if (size_keys_ && size_keys_->contains(dotted))
          if (auto size = binary_size_text(v); !size.empty()) return toml_quote(size);
        return toml_float(v);
      }
      case toml::node_type::boolean: return *node.value_exact<bool>() ? "true" : "false";
      case toml::node_type::array: {
        std::string out = "[";
        for (const auto& element : *node.as_array()) out += (out.size() > 1 ? ", " : "") + value(element, "");
        return out + "]";
      }
      case toml::node_type::table: {
        std::string out = "{";
        for (const auto& [key, element] : *node.as_table())
          out += (out.size() > 1 ? ", " : " ") + toml_key(key.str()) + " = " + value(element, "");
        return out + (out.size() > 1 ? " }" : "}");
      }
      case toml::node_type::date: text << *node.as_date(); return text.str();
      case toml::node_type::time: text << *node.as_time(); return text.str();
      case toml::node_type::date_time: text << *node.as_date_time(); return text.str();
      default: return "\"\"";
    }
  }

  std::ostream& out_;
  const std::set<std::string, std::less<>>* size_keys_;
};

}  // namespace

std::string to_toml_text(const toml::table& table) {
  std::ostringstream out;
  TomlWriter(out, nullptr).table(table, "");
  return out.str();
}

std::string to_toml_text(const ReadContext& context) {
  std::ostringstream out;
  TomlWriter(out, &context.size_keys).table(context.resolved, "");
  return out.str();
}

}  // namespace kvsim::config
