// The mix generator: spec layering and parsing, the kinds table, and the merge of the
// populations' streams (documented in mix.hpp).
#include "workloads/synth/mix/mix.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/config/embedded.hpp"
#include "sim/config/reader.hpp"
#include "sim/util/text.hpp"
#include "sim/util/error.hpp"

namespace kvsim::workload {

namespace {

using mix::PopulationContext;

// Population kinds: one file each under workloads/synth/mix/, one line here.
const mix::PopulationKind kinds[] = {
    {"chat", "multi-turn chat sessions (to-C)",
     [](config::Section& s, PopulationContext c) { return mix::build_session_population(s, std::move(c), false); }},
    {"api", "single-turn API clients with shared prompt templates (to-B)", &mix::build_api_population},
    {"agent", "agentic tool-call loops: long growing contexts, short gaps",
     [](config::Section& s, PopulationContext c) { return mix::build_session_population(s, std::move(c), true); }},
    {"batch", "offline batch jobs submitted at once, lower priority", &mix::build_batch_population},
};

const char* const kGlobalKeys[] = {"duration", "num_requests", "rate_scale", "diurnal", "population"};

// Turns population = [ {..}, {..} ] into population = { "0" = {..}, "1" = {..} }.
void normalize(toml::table& doc) {
  toml::node* node = doc.get("population");
  if (!node || !node->is_array()) return;
  toml::table by_index;
  std::size_t i = 0;
  for (auto& element : *node->as_array()) {
    if (!element.is_table())
      throw InputError(element.source().path ? std::string(*element.source().path) : "<spec>",
                       static_cast<long>(element.source().begin.line), "population." + std::to_string(i),
                       "expected a table ([[population]])");
    by_index.insert(std::to_string(i++), *element.as_table());
  }
  doc.insert_or_assign("population", std::move(by_index));
}

// Deep merge: tables merge key by key, anything else in top replaces base's.
void overlay(toml::table& base, const toml::table& top) {
  for (const auto& [key, node] : top) {
    toml::node* existing = base.get(key);
    if (existing && existing->is_table() && node.is_table())
      overlay(*existing->as_table(), *node.as_table());
    else
      base.insert_or_assign(key, node);
  }
}

// Population keys in order: numeric keys numerically, then names alphabetically.
std::vector<std::string> population_keys(const toml::table& populations) {
  std::vector<std::pair<std::uint64_t, std::string>> keys;
  for (const auto& [key, node] : populations) {
    std::uint64_t n = 0;
    const std::string_view k = key.str();
    const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), n);
    keys.emplace_back(ec == std::errc() && end == k.data() + k.size() ? n : UINT64_MAX, std::string(k));
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> names;
  for (auto& k : keys) names.push_back(std::move(k.second));
  return names;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const auto& k : kinds) names.emplace_back(k.name);
  return names;
}

// Reads the global keys of a (layered) spec section and builds every population with
// its own stream derived from (seed, index); base_dir nullopt = validation only.
std::vector<std::unique_ptr<mix::Population>> read_spec(config::Section& root, MixParams& p,
                                                         const std::optional<std::string>& base_dir,
                                                         std::uint64_t seed, std::uint32_t block_size) {
  using config::Dimension;
  using config::Range;
  p.duration = root.quantity("duration", Dimension::time, 0.0,
                             "Stop at the first arrival later than this; 0 = no time limit.");
  p.num_requests = static_cast<std::uint64_t>(
      root.integer("num_requests", 0, "Stop after this many requests; 0 = no count limit.", 0));
  if (p.num_requests == 0 && !(p.duration > 0))
    root.fail("duration", "set duration > 0 or num_requests > 0, otherwise the workload never ends");
  p.rate_scale = root.number("rate_scale", 1.0,
                             "Multiplies every population's arrival rate (sessions, clients; batch repeat periods "
                             "are divided by it).",
                             Range::positive());
  config::Section diurnal = root.table("diurnal");
  p.diurnal.amplitude = diurnal.number("amplitude", 0.0,
                                       "Relative amplitude of the sinusoidal rate modulation, rate * (1 + amplitude "
                                       "* sin(2 pi t / period + phase)); 0 = none.",
                                       Range::fraction());
  p.diurnal.period = diurnal.quantity("period", Dimension::time, 86400.0, "Period of the modulation.",
                                      Range::positive());
  p.diurnal.phase = diurnal.number("phase", 0.0, "Phase of the modulation in radians.");
  diurnal.finish();

  std::vector<std::unique_ptr<mix::Population>> populations;
  const toml::node* node = root.raw("population");
  if (!node || !node->is_table() || node->as_table()->empty())
    root.fail("population", "expected at least one [[population]] table (kinds: chat, api, agent, batch)");
  config::Section table = root.table("population");
  const auto names = kind_names();
  std::size_t index = 0;
  for (const auto& key : population_keys(*node->as_table())) {
    config::Section s = table.table(key);
    s.require("kind");
    const std::string kind = s.choice("kind", "chat", names, "Population kind; its parameters follow.");
    PopulationContext context;
    // Each population has its own stream, so adding one leaves the others' numbers unchanged.
    context.rng = Rng::stream(mix64(seed + index), "mix.population");
    context.block_size = block_size;
    context.rate_scale = p.rate_scale;
    context.diurnal = p.diurnal;
    context.base_dir = base_dir;
    const auto it = std::find(names.begin(), names.end(), kind);
    populations.push_back(kinds[it - names.begin()].build(s, std::move(context)));
    s.finish();
    ++index;
  }
  return populations;
}

}  // namespace

std::vector<std::string> mix_preset_names() {
  std::vector<std::string> names;
  for (const auto& f : config::embedded_files())
    if (f.kind == "workload") names.emplace_back(f.name);
  return names;
}

toml::table load_mix_spec(const std::string& ref, std::string* dir) {
  toml::table doc;
  if (ref.ends_with(".toml") || ref.find('/') != std::string::npos) {
    doc = config::parse_toml(read_text_file(ref, "spec", "cannot open the workload spec"), ref);
    if (dir) *dir = std::filesystem::path(ref).parent_path().string();
  } else if (const config::EmbeddedFile* preset = config::find_embedded("workload", ref)) {
    doc = config::parse_toml(preset->text, std::string(preset->path));
    if (dir) dir->clear();
  } else {
    const auto names = mix_preset_names();
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    std::string message = "unknown workload preset \"" + ref + "\"; presets: " + list + " (or give a path to a .toml spec)";
    if (auto near = config::closest_match(ref, names); !near.empty()) message += "; did you mean \"" + near + "\"?";
    throw InputError("spec", 0, "spec", message);
  }
  normalize(doc);
  return doc;
}

MixParams parse_mix_params(config::Section& section) {
  MixParams p;
  p.path = section.path();
  const std::string spec_ref =
      section.text("spec", "",
                   "Preset (to-c, to-b) or spec file whose keys the ones here override; empty = the keys here are "
                   "the whole spec (with no population given, the to-c preset).");
  // Layer: the named spec (or to-c when nothing is given), then this section's own keys.
  toml::table merged;
  bool has_population = section.has("population");
  if (!spec_ref.empty() || !has_population) {
    try {
      merged = load_mix_spec(spec_ref.empty() ? "to-c" : spec_ref, &p.spec_dir);
    } catch (const InputError& e) {
      section.fail("spec", e.what());
    }
    if (merged.contains("spec")) section.fail("spec", "a spec file cannot name another spec");
  }
  toml::table own;
  for (const char* key : kGlobalKeys)
    if (const toml::node* node = section.raw(key)) own.insert_or_assign(key, *node);
  normalize(own);
  overlay(merged, own);
  p.spec = std::make_shared<const toml::table>(std::move(merged));

  // Read (and so document and record) everything through a Section of its own over the
  // layered table; its docs and resolved values then join the caller's.
  auto context = std::make_shared<config::ReadContext>();
  context->default_source = section.context().default_source;
  context->record_resolved = section.context().record_resolved;
  config::Section root(p.spec.get(), p.path, context);
  read_spec(root, p, std::nullopt, 0, 16);
  root.finish();
  if (section.context().record_resolved) overlay(section.context().resolved, context->resolved);
  for (auto& doc : context->docs) {
    auto& docs = section.context().docs;
    if (std::none_of(docs.begin(), docs.end(), [&](const config::ParamDoc& d) { return d.key == doc.key; }))
      docs.push_back(std::move(doc));
  }
  return p;
}

MixGenerator::MixGenerator(MixParams params, Rng rng, std::uint32_t block_size, const std::string& base_dir)
    : params_(std::move(params)) {
  if (block_size == 0) throw std::invalid_argument("MixGenerator: block_size must be > 0");
  auto context = std::make_shared<config::ReadContext>();
  context->record_resolved = false;
  config::Section root(params_.spec.get(), params_.path, context);
  populations_ = read_spec(root, params_, params_.spec_dir.empty() ? base_dir : params_.spec_dir, rng.next_u64(),
                           block_size);

  for (const auto& population : populations_) {
    auto& map = category_of_.emplace_back();
    for (const auto& name : population->types()) {
      auto it = std::find(categories_.begin(), categories_.end(), name);
      if (it == categories_.end()) it = categories_.insert(categories_.end(), name);
      map.push_back(static_cast<std::uint16_t>(it - categories_.begin()));
    }
  }
  for (std::size_t i = 0; i < populations_.size(); ++i) refill(i);
}

MixGenerator::~MixGenerator() = default;

namespace {
// Heap order: (arrival, population index).
template <typename H>
bool head_later(const H& a, const H& b) {
  return a.draft.request.arrival != b.draft.request.arrival ? a.draft.request.arrival > b.draft.request.arrival
                                                            : a.population > b.population;
}
}  // namespace

void MixGenerator::refill(std::size_t population) {
  if (auto draft = populations_[population]->next()) {
    heads_.push_back({std::move(*draft), population});
    std::push_heap(heads_.begin(), heads_.end(), head_later<Head>);
  }
}

std::optional<Request> MixGenerator::next() {
  if (done_ || heads_.empty() || (params_.num_requests > 0 && next_request_ >= params_.num_requests) ||
      (params_.duration > 0 && heads_.front().draft.request.arrival > params_.duration)) {
    done_ = true;
    heads_.clear();
    open_sessions_.clear();
    return std::nullopt;
  }
  std::pop_heap(heads_.begin(), heads_.end(), head_later<Head>);
  Head head = std::move(heads_.back());
  heads_.pop_back();
  refill(head.population);

  Request r = std::move(head.draft.request);
  const std::uint64_t key = (std::uint64_t{head.population} << 48) ^ r.session;
  r.id = next_request_++;
  r.category = category_of_[head.population][r.category];
  if (r.turn <= 1) {
    r.session = next_session_++;
    r.parent = -1;
    if (head.draft.continues) open_sessions_[key] = {r.session, r.id};
  } else {
    const auto it = open_sessions_.find(key);
    if (it == open_sessions_.end()) throw std::logic_error("mix: follow-up turn of an unknown session");
    r.session = it->second.session;
    r.parent = static_cast<std::int64_t>(it->second.last_request);
    if (head.draft.continues)
      it->second.last_request = r.id;
    else
      open_sessions_.erase(it);
  }
  return r;
}

}  // namespace kvsim::workload
