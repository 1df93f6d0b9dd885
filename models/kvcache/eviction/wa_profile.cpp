// Reuse statistics and the profile file of the workload-aware policies (see wa_profile.hpp
// and README.md for the format).
#include "models/kvcache/eviction/wa_profile.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"
#include "sim/util/output_file.hpp"

namespace kvsim::kvcache::eviction {

WaProfile read_wa_profile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open the wa profile");
  std::ostringstream text;
  text << in.rdbuf();
  const toml::table doc = config::parse_toml(text.str(), path);
  auto context = std::make_shared<config::ReadContext>();
  context->default_source = path;
  context->record_resolved = false;
  config::Section root(&doc, "", context);
  const std::string format = root.text("format", "kvsim-wa-profile", "file format tag");
  if (format != "kvsim-wa-profile") root.fail("format", "expected \"kvsim-wa-profile\", got \"" + format + "\"");
  root.integer("version", 1, "format version", 1, 1);
  root.integer("block_size", 0, "block size of the profiled trace (tokens)", 0);
  root.number("until", 0, "profiled trace time (s)", config::Range::non_negative());
  root.number("same_prompt_window", kSamePromptWindow, "reuses closer than this were ignored (s)",
              config::Range::non_negative());

  WaProfile profile;
  profile.source = path;
  const toml::node* categories = root.raw("category");
  if (categories && !categories->is_table()) root.fail("category", "expected tables [category.\"NAME\"]");
  if (categories) {
    for (const auto& [key, node] : *categories->as_table()) {
      const std::string name(key.str());
      if (!node.is_table())
        throw InputError(path, long(node.source().begin.line), "category." + name,
                         "expected a table of lambda, p, samples");
      config::Section s(node.as_table(), "category." + name, context);
      CategoryModel m;
      s.require("p");
      m.p = s.number("p", 0, "reuse probability", config::Range::fraction());
      m.lambda = s.number("lambda", 0, "reuse rate (1/s), absent = unknown", config::Range::non_negative());
      m.samples = std::uint64_t(s.integer("samples", 0, "reuse-time samples", 0));
      s.integer("accesses", 0, "block accesses", 0);
      s.integer("hits", 0, "block reuses", 0);
      s.number("mean_reuse_time", 0, "mean reuse time (s)", config::Range::non_negative());
      s.number("min_reuse_time", 0, "shortest reuse time (s)", config::Range::non_negative());
      s.finish();
      profile.categories.emplace(name, m);
    }
  }
  root.finish();
  return profile;
}

namespace {

std::string number_text(double v) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string text(buffer, ec == std::errc() ? end : buffer);
  // TOML floats need a '.' or an exponent.
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

std::string quoted_key(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void write_wa_profile(const std::string& path, const ProfileHeader& header, const std::vector<ProfileEntry>& entries) {
  std::ostringstream out;
  out << "# Reuse-time model per request category for the `wa` eviction policy\n"
      << "# (format: models/kvcache/eviction/README.md).\n"
      << "# trace: " << header.trace << "\n"
      << "# command: " << header.command_line << "\n"
      << "format = \"kvsim-wa-profile\"\nversion = 1\n"
      << "block_size = " << header.block_size << "  # tokens\n"
      << "until = " << number_text(header.until) << "  # s of trace time profiled\n"
      << "same_prompt_window = " << number_text(kSamePromptWindow) << "  # s: closer re-touches are ignored\n";
  for (const auto& e : entries) {
    out << "\n[category." << quoted_key(e.name) << "]\n";
    if (e.model.lambda > 0 && std::isfinite(e.model.lambda)) out << "lambda = " << number_text(e.model.lambda) << "  # 1/s\n";
    out << "p = " << number_text(e.model.p) << "\n"
        << "samples = " << e.model.samples << "\n"
        << "accesses = " << e.accesses << "\n"
        << "hits = " << e.hits << "\n";
    if (e.model.samples > 0)
      out << "mean_reuse_time = " << number_text(e.mean_reuse_time) << "  # s\n"
          << "min_reuse_time = " << number_text(e.min_reuse_time) << "  # s\n";
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  check_regular_output(path, "output");  // never rename over a device or FIFO
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream file(temp, std::ios::binary);
    if (!file) throw InputError(path, 0, "", "cannot write the profile there");
    file << out.str();
    file.close();
    if (!file) {
      fs::remove(temp, ec);
      throw InputError(path, 0, "", "error while writing the profile");
    }
  }
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw InputError(path, 0, "", "cannot rename the profile into place: " + ec.message());
  }
}

}  // namespace kvsim::kvcache::eviction
