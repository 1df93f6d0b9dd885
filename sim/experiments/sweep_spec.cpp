#include "sim/experiments/sweep_spec.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"

namespace kvsim::experiments {

namespace {

long line_of(const toml::node& node) { return static_cast<long>(node.source().begin.line); }

// A value as TOML text for `--set KEY=VALUE`; strings as basic (double-quoted) strings.
std::string value_text(const toml::node& node) {
  if (const auto str = node.value_exact<std::string>()) {
    std::string out = "\"";
    for (const char c : *str) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04X", unsigned(static_cast<unsigned char>(c)));
        out += escape;
        continue;
      }
      out += c;
    }
    return out + "\"";
  }
  std::ostringstream out;
  node.visit([&](const auto& v) { out << v; });
  return out.str();
}

struct Leaf {
  std::string key;
  const toml::node* node;
};

// Leaves of a table as dotted keys ("instances.count"), whether written as dotted keys,
// quoted keys or sub-tables.
void flatten(const toml::table& table, const std::string& prefix, std::vector<Leaf>& out) {
  for (const auto& [key, node] : table) {
    const std::string dotted = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = node.as_table())
      flatten(*sub, dotted, out);
    else
      out.push_back({dotted, &node});
  }
}

// Axes in the order they are written (toml++ keeps keys sorted).
std::vector<Leaf> leaves_in_file_order(const toml::table& table) {
  std::vector<Leaf> leaves;
  flatten(table, "", leaves);
  std::stable_sort(leaves.begin(), leaves.end(), [](const Leaf& a, const Leaf& b) {
    const auto& sa = a.node->source().begin;
    const auto& sb = b.node->source().begin;
    return sa.line != sb.line ? sa.line < sb.line : sa.column < sb.column;
  });
  return leaves;
}

}  // namespace

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string plain_value(const std::string& toml_text) {
  if (toml_text.size() < 2 || (toml_text.front() != '"' && toml_text.front() != '\'')) return toml_text;
  try {
    const toml::table t = toml::parse("x = " + toml_text);
    if (auto s = t["x"].value<std::string>()) return *s;
  } catch (const toml::parse_error&) {
  }
  return toml_text;
}

SweepSpec parse_sweep_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open the sweep file");
  std::ostringstream text;
  text << in.rdbuf();
  const auto directory = std::filesystem::path(path).parent_path().string();
  SweepSpec spec = parse_sweep_text(text.str(), path, directory);
  if (spec.name.empty()) spec.name = std::filesystem::path(path).stem().string();
  if (spec.output_dir.empty()) spec.output_dir = "results/" + spec.name;
  return spec;
}

SweepSpec parse_sweep_text(const std::string& text, const std::string& source, const std::string& directory) {
  const toml::table doc = config::parse_toml(text, source);
  SweepSpec spec;
  spec.source = source;
  auto fail = [&](const toml::node* node, const std::string& field, const std::string& message) -> void {
    throw InputError(source, node ? line_of(*node) : 0, field, message);
  };
  for (const auto& [key, node] : doc) {
    const std::string k(key.str());
    if (k != "sweep" && k != "grid" && k != "zip")
      fail(&node, k, "unknown section (a sweep file has [sweep], [grid] and [zip])");
    if (!node.is_table()) fail(&node, k, "expected a table");
  }

  std::uint64_t first_seed = 1;
  std::int64_t repetitions = 1;
  bool seeds_given = false;
  if (const auto* sweep = doc["sweep"].as_table()) {
    for (const auto& [key, bound_node] : *sweep) {
      const std::string k(key.str());
      const std::string field = "sweep." + k;
      // A reference, not the structured binding itself: lambdas may not capture bindings
      // before C++20 compilers implement P1091 (clang 14, used for the fuzz build, does not).
      const toml::node& node = bound_node;
      auto text_value = [&]() {
        const auto v = node.value<std::string>();
        if (!v) fail(&node, field, "expected a string");
        return *v;
      };
      if (k == "base") {
        const std::string base = text_value();
        spec.base = std::filesystem::path(base).is_absolute() || directory.empty()
                        ? base
                        : (std::filesystem::path(directory) / base).string();
        if (!std::filesystem::is_regular_file(spec.base)) fail(&node, field, "no such scenario file: " + spec.base);
      } else if (k == "name") {
        spec.name = text_value();
        if (spec.name.empty() || spec.name.find('/') != std::string::npos)
          fail(&node, field, "expected a non-empty name without '/'");
      } else if (k == "output") {
        spec.output_dir = text_value();
        if (spec.output_dir.empty()) fail(&node, field, "expected a directory");
      } else if (k == "seeds") {
        const auto* list = node.as_array();
        if (!list || list->empty()) fail(&node, field, "expected a non-empty list of seeds");
        for (const auto& s : *list) {
          const auto v = s.value_exact<std::int64_t>();
          if (!v || *v < 0) fail(&s, field, "expected non-negative integers");
          spec.seeds.push_back(std::uint64_t(*v));
        }
        seeds_given = true;
      } else if (k == "repetitions") {
        const auto v = node.value_exact<std::int64_t>();
        if (!v || *v < 1 || *v > 100000) fail(&node, field, "expected an integer from 1 to 100000");
        repetitions = *v;
      } else if (k == "first_seed") {
        const auto v = node.value_exact<std::int64_t>();
        if (!v || *v < 0) fail(&node, field, "expected a non-negative integer");
        first_seed = std::uint64_t(*v);
      } else if (k == "set") {
        const auto* list = node.as_array();
        if (!list) fail(&node, field, "expected a list of \"KEY=VALUE\" strings");
        for (const auto& s : *list) {
          const auto v = s.value<std::string>();
          if (!v || v->find('=') == std::string::npos || v->front() == '=')
            fail(&s, field, "expected \"KEY=VALUE\" strings, e.g. \"workload.rate=20\"");
          spec.fixed_overrides.push_back(*v);
        }
      } else {
        const std::string known[] = {"base", "name", "output", "seeds", "repetitions", "first_seed", "set"};
        const std::string near = config::closest_match(k, known);
        fail(&node, field, "unknown key" + (near.empty() ? std::string() : " (did you mean sweep." + near + "?)"));
      }
    }
    if (seeds_given && (sweep->contains("repetitions") || sweep->contains("first_seed")))
      fail(sweep->get("seeds"), "sweep.seeds", "give either seeds or repetitions/first_seed, not both");
  }
  if (!seeds_given)
    for (std::int64_t r = 0; r < repetitions; ++r) spec.seeds.push_back(first_seed + std::uint64_t(r));

  std::size_t zip_length = 0;
  for (const char* section : {"grid", "zip"}) {
    const auto* table = doc[section].as_table();
    if (!table) continue;
    const bool zipped = std::string(section) == "zip";
    for (const auto& leaf : leaves_in_file_order(*table)) {
      const std::string field = std::string(section) + "." + leaf.key;
      const auto* list = leaf.node->as_array();
      if (!list || list->empty()) fail(leaf.node, field, "expected a non-empty list of values");
      if (leaf.key == "run.seed") fail(leaf.node, field, "vary seeds with sweep.seeds or sweep.repetitions");
      Axis axis{leaf.key, {}, zipped};
      for (const auto& v : *list) {
        if (v.is_table()) fail(&v, field, "a value must not be a table");
        axis.values.push_back(value_text(v));
      }
      if (zipped) {
        if (zip_length != 0 && axis.values.size() != zip_length)
          fail(leaf.node, field,
               "zipped lists must have equal lengths: " + std::to_string(axis.values.size()) + " values here, " +
                   std::to_string(zip_length) + " in the first [zip] list");
        zip_length = axis.values.size();
      }
      for (const auto& other : spec.axes)
        if (other.key == axis.key) fail(leaf.node, field, "this key is already an axis");
      spec.axes.push_back(std::move(axis));
    }
  }
  return spec;
}

std::vector<Point> expand_points(const SweepSpec& spec) {
  std::vector<const Axis*> grid;
  std::vector<const Axis*> zipped;
  for (const auto& a : spec.axes) (a.zipped ? zipped : grid).push_back(&a);
  const std::size_t zip_length = zipped.empty() ? 1 : zipped.front()->values.size();

  std::vector<Point> points;
  std::vector<std::size_t> digit(grid.size(), 0);  // mixed-radix counter over grid axes, first axis outermost
  while (true) {
    for (std::size_t z = 0; z < zip_length; ++z) {
      for (const auto seed : spec.seeds) {
        Point p;
        p.id = points.size();
        for (std::size_t g = 0; g < grid.size(); ++g) p.axis_values.push_back(grid[g]->values[digit[g]]);
        for (const auto* a : zipped) p.axis_values.push_back(a->values[z]);
        p.seed = seed;
        std::string identity = spec.base + "\n" + std::to_string(seed);
        for (const auto& o : point_overrides(spec, p)) identity += "\n" + o;
        char name[40];
        std::snprintf(name, sizeof name, "p%04zu-%08llx.h5", p.id,
                      static_cast<unsigned long long>(fnv1a(identity) & 0xffffffffull));
        p.file_name = name;
        points.push_back(std::move(p));
      }
    }
    std::size_t g = grid.size();
    while (g > 0) {
      --g;
      if (++digit[g] < grid[g]->values.size()) break;
      digit[g] = 0;
      if (g == 0) return points;
    }
    if (grid.empty()) return points;
  }
}

std::vector<std::string> point_overrides(const SweepSpec& spec, const Point& point) {
  std::vector<std::string> out = spec.fixed_overrides;
  for (std::size_t i = 0; i < spec.axes.size(); ++i) out.push_back(spec.axes[i].key + "=" + point.axis_values[i]);
  return out;
}

}  // namespace kvsim::experiments
