#include "sim/config/instance_groups.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "sim/config/cluster_card.hpp"

namespace kvsim::config {

namespace {

std::string source_of(const toml::node& node) {
  return node.source().path ? std::string(*node.source().path) : std::string("<config>");
}

[[noreturn]] void fail_at(const toml::node& node, const std::string& field, const std::string& message) {
  throw InputError(source_of(node), long(node.source().begin.line), field, message);
}

// A group's optional string key ("" when absent).
std::string optional_text(const toml::table& table, const char* key, const std::string& field) {
  const toml::node* node = table.get(key);
  if (!node) return "";
  if (!node->is_string()) fail_at(*node, field + "." + key, "expected a string");
  return node->as_string()->get();
}

// e's message without its "file:line: field: " prefix.
std::string bare_message(const InputError& e) {
  const std::string prefix = InputError(e.file(), e.line(), e.field(), "").what();
  return std::string(e.what()).substr(prefix.size());
}

// Where a group may be placed: its node_group and gpu selectors.
struct Selectors {
  std::string node_group, gpu;
  bool allows(const ClusterSpec& cluster, int node) const {
    const auto& group = cluster.group_of(node);
    return (node_group.empty() || group.name == node_group) && (gpu.empty() || group.gpu.name == gpu);
  }
};

// "a, b, c": the cluster's node group names (what = "name") or GPU card names, once each.
std::string list_kinds(const ClusterSpec& cluster, bool gpus) {
  std::string list;
  std::vector<std::string> seen;
  for (const auto& g : cluster.groups) {
    const std::string& name = gpus ? g.gpu.name : g.name;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    list += (list.empty() ? "\"" : ", \"") + name + "\"";
  }
  return list;
}

// P/D disaggregation needs both sides: arrivals go to prefill (and mixed) instances, and
// every prefill hands its request to a decode instance.
void check_roles(const std::vector<InstanceGroupSpec>& groups, const std::vector<std::string>& sources,
                 const std::vector<long>& lines) {
  int first_pd = -1;
  bool prefill = false, decode = false;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    prefill = prefill || groups[g].role == "prefill";
    decode = decode || groups[g].role == "decode";
    if (first_pd < 0 && groups[g].role != "mixed") first_pd = int(g);
  }
  if (!prefill && !decode) return;  // no disaggregation
  if (prefill && decode) {
    // A hand-off moves KV between prefill and decode instances: both must serve one model.
    const InstanceGroupSpec& first = groups[std::size_t(first_pd)];
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (groups[g].role != "mixed" && groups[g].model.name != first.model.name)
        throw InputError(sources[g], lines[g], "instances[" + std::to_string(g) + "].model",
                         "group \"" + groups[g].name + "\" serves " + groups[g].model.name + " but group \"" +
                             first.name + "\" serves " + first.model.name +
                             ": prefill and decode groups hand KV to each other, so they serve the same model");
    return;
  }
  const auto g = std::size_t(first_pd);
  throw InputError(sources[g], lines[g], "instances[" + std::to_string(g) + "].role",
                   prefill ? "a \"prefill\" group needs at least one \"decode\" group to hand its requests to"
                           : "a \"decode\" group needs at least one \"prefill\" group to receive requests from");
}

// [routing.decode] only means something with prefill and decode groups.
void check_decode_router(toml::table& doc, const Scenario& scenario) {
  if (scenario.decode_router.empty() || scenario.disaggregated()) return;
  const toml::node* routing = doc.get("routing");
  const toml::node* decode = routing && routing->as_table() ? routing->as_table()->get("decode") : nullptr;
  fail_at(decode ? *decode : *routing, "routing.decode",
          "[routing.decode] picks decode instances, but no [[instances]] group has role \"prefill\" and \"decode\"");
}

}  // namespace

Scenario read_with_instance_groups(toml::table& doc,
                                   const std::function<Scenario(const toml::table&, const NodeKindChooser&)>& parse) {
  toml::node* node = doc.get("instances");
  toml::array* found = node ? node->as_array() : nullptr;
  if (!found) {
    Scenario scenario = parse(doc, nullptr);
    check_decode_router(doc, scenario);
    return scenario;
  }
  if (found->empty()) fail_at(*node, "instances", "[[instances]] needs at least one group");
  // Each group in turn becomes the document's [instances] table. Nodes are moved, never
  // copied: a copy loses its source lines, which every error message needs.
  toml::array array = std::move(*found);
  const auto* model_table = doc.get("model") ? doc.get("model")->as_table() : nullptr;
  const toml::node* model_card = model_table ? model_table->get("card") : nullptr;
  const std::string scenario_model =
      model_card && model_card->as_string() ? model_card->as_string()->get() : std::string("llama-3.1-8b");
  // The scenario's [model] table (with its overrides), moved out while a group with a model
  // of its own is parsed, and back in for the others.
  std::optional<toml::table> scenario_model_table;
  if (model_table) scenario_model_table = std::move(*doc.get("model")->as_table());

  std::vector<Scenario> parts;
  std::vector<InstanceGroupSpec> groups;
  std::vector<long> group_lines;
  std::vector<long> role_lines;  // the role key's line (the group's when absent), for role errors
  std::vector<std::string> group_sources;
  int scenario_model_part = -1;  // first group serving the scenario's [model]
  std::vector<int> used;  // GPUs taken per node by the groups placed so far
  std::vector<InstancePlacement> placement;
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto* table = array[i].as_table();
    const std::string field = "instances[" + std::to_string(i) + "]";
    if (!table) fail_at(array[i], field, "expected a table ([[instances]])");
    const long line = long(table->source().begin.line);
    const std::string source = source_of(*table);
    group_lines.push_back(line);
    role_lines.push_back(line);
    group_sources.push_back(source);
    InstanceGroupSpec group;
    group.name = "group" + std::to_string(i);
    if (table->get("name")) group.name = optional_text(*table, "name", field);
    if (const auto* role = table->get("role")) {
      const auto* text = role->as_string();
      if (!text || (text->get() != "mixed" && text->get() != "prefill" && text->get() != "decode"))
        fail_at(*role, field + ".role", "expected \"mixed\", \"prefill\" or \"decode\"");
      group.role = text->get();
      role_lines.back() = long(role->source().begin.line);
    }
    Selectors selectors{optional_text(*table, "node_group", field), optional_text(*table, "gpu", field)};
    group.node_group = selectors.node_group;
    group.gpu_selector = selectors.gpu;
    std::optional<toml::table> own_model;
    if (auto* model = table->get("model")) {
      if (!model->is_string()) fail_at(*model, field + ".model", "expected a model card name or path");
      if (model->as_string()->get() != scenario_model) {
        own_model.emplace();
        own_model->insert("card", std::move(*model->as_string()));  // moved: keeps its line for errors
      }
    }
    // Only to pick the group's GPU kind before the parse; the parse validates tp (default 1).
    const toml::node* tp_node = table->get("tp");
    const int tp_hint = tp_node && tp_node->value<std::int64_t>() ? int(std::max<std::int64_t>(1, *tp_node->value<std::int64_t>())) : 1;
    for (const char* key : {"name", "role", "model", "node_group", "gpu"}) table->erase(key);
    doc.insert_or_assign("instances", std::move(*table));
    if (own_model)
      doc.insert_or_assign("model", std::move(*own_model));
    else if (scenario_model_table)
      doc.insert_or_assign("model", std::move(*scenario_model_table));
    else
      doc.erase("model");

    // The group's GPU kind: that of the first allowed node with tp free GPUs.
    const auto choose = [&](const ClusterSpec& cluster) {
      if (!selectors.node_group.empty() &&
          std::none_of(cluster.groups.begin(), cluster.groups.end(),
                       [&](const NodeGroupSpec& g) { return g.name == selectors.node_group; }))
        throw InputError(source, line, field + ".node_group",
                         "no node group \"" + selectors.node_group + "\" in the cluster; its node groups: " +
                             list_kinds(cluster, false));
      if (!selectors.gpu.empty() &&
          std::none_of(cluster.groups.begin(), cluster.groups.end(),
                       [&](const NodeGroupSpec& g) { return g.gpu.name == selectors.gpu; }))
        throw InputError(source, line, field + ".gpu",
                         "no node of the cluster has GPU \"" + selectors.gpu + "\"; its GPUs: " + list_kinds(cluster, true));
      used.resize(std::size_t(cluster.nodes()), 0);
      int first_allowed = -1;
      for (int n = 0; n < cluster.nodes(); ++n) {
        if (!selectors.allows(cluster, n)) continue;
        if (first_allowed < 0) first_allowed = n;
        if (cluster.group_of(n).node.gpus - used[std::size_t(n)] >= tp_hint) return cluster.node_group[std::size_t(n)];
      }
      // Full: size for the first allowed node's kind; placement below reports the shortage.
      return cluster.node_group[std::size_t(std::max(0, first_allowed))];
    };
    Scenario part;
    try {
      part = parse(doc, choose);
    } catch (const InputError& e) {
      if (!e.field().starts_with("instances") && !e.field().starts_with("model")) throw;
      throw InputError(e.file(), e.line(), e.field(), "group \"" + group.name + "\": " + bare_message(e));
    }
    if (!own_model && scenario_model_table) scenario_model_table = std::move(*doc.get("model")->as_table());
    if (!own_model && scenario_model_part < 0) scenario_model_part = int(i);

    const std::string& gpu = part.gpu.name;
    const auto same_kind = [&](int n) {
      return selectors.allows(part.cluster, n) && part.cluster.group_of(n).gpu.name == gpu;
    };
    if (!place_instances(part.cluster, part.instances, part.tp, used, placement, same_kind))
      throw InputError(source, line, field + ".count",
                       "group \"" + group.name + "\" does not fit: the groups before it leave fewer than " +
                           std::to_string(part.instances) + " places of " + std::to_string(part.tp) + " GPUs on one " +
                           gpu + " node" + (selectors.node_group.empty() ? "" : " of node group \"" + selectors.node_group + "\"") +
                           " (placement fills node by node)");
    if (!parts.empty() && part.engine.block_size != parts.front().engine.block_size)
      throw InputError(source, line, field + ".block_size",
                       "group \"" + group.name + "\" has block_size " + std::to_string(part.engine.block_size) +
                           " but the first group has " + std::to_string(parts.front().engine.block_size) +
                           ": every group uses the same block_size (the workload's block hashes are chained at one size)");
    group.count = part.instances;
    group.tp = part.tp;
    group.hbm_utilization = part.hbm_utilization;
    group.activation_reserve = part.activation_reserve;
    group.engine = part.engine;
    group.model = part.model;
    group.gpu = part.gpu;
    group.compute = part.compute;
    group.engine.prefill_only = group.role == "prefill";
    groups.push_back(group);
    parts.push_back(std::move(part));
  }
  if (scenario_model_table) doc.insert_or_assign("model", std::move(*scenario_model_table));

  // With the groups' own fields above, the scenario's model, tp and engine are the first
  // group's; its node and GPU are node 0's (scenario.hpp).
  Scenario scenario = parts.front();
  scenario.node = scenario.cluster.group_of(0).node;
  scenario.gpu = scenario.cluster.group_of(0).gpu;
  scenario.groups = groups;
  scenario.placement = placement;
  check_roles(groups, group_sources, role_lines);
  check_decode_router(doc, scenario);
  if (scenario.disaggregated() && scenario.decode_router.empty()) scenario.decode_router = "least_loaded";
  scenario.instances = 0;
  scenario.instance_group.clear();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    scenario.instances += groups[g].count;
    scenario.instance_group.insert(scenario.instance_group.end(), std::size_t(groups[g].count), int(g));
  }
  // Lower tiers are shared (a node's DRAM and SSD, the remote pool) and know a block by the
  // hash of its tokens only, the same for every model: two models would read each other's
  // KV, whose bytes per block differ too. A run with lower tiers therefore serves one model.
  if (!scenario.kv.lower.empty())
    for (std::size_t g = 1; g < groups.size(); ++g)
      if (groups[g].model.name != groups[0].model.name)
        throw InputError(group_sources[g], group_lines[g], "instances[" + std::to_string(g) + "].model",
                         "group \"" + groups[g].name + "\" serves " + groups[g].model.name + " but group \"" +
                             groups[0].name + "\" serves " + groups[0].model.name +
                             ": KV tiers below HBM ([kvcache.dram], [kvcache.ssd], [kvcache.remote]) key blocks by "
                             "their tokens alone, so a run with lower tiers serves one model; remove the lower tiers "
                             "or give every group the same model");

  // Resolved config: every group's resolved [instances] (defaults filled in), as an array.
  toml::table resolved = parse_toml(scenario.resolved_toml, "<resolved>");
  toml::array all;
  for (std::size_t g = 0; g < parts.size(); ++g) {
    toml::table part = parse_toml(parts[g].resolved_toml, "<resolved>");
    toml::table instances = part["instances"].as_table() ? *part["instances"].as_table() : toml::table{};
    instances.insert_or_assign("name", groups[g].name);
    instances.insert_or_assign("role", groups[g].role);
    if (const auto card = part["model"]["card"].value<std::string>(); card && *card != scenario_model)
      instances.insert_or_assign("model", *card);
    if (!groups[g].node_group.empty()) instances.insert_or_assign("node_group", groups[g].node_group);
    if (!groups[g].gpu_selector.empty()) instances.insert_or_assign("gpu", groups[g].gpu_selector);
    all.push_back(std::move(instances));
  }
  resolved.insert_or_assign("instances", std::move(all));
  // [model] stays the scenario's (the groups naming another say so above).
  if (scenario_model_part >= 0) {
    toml::table part = parse_toml(parts[std::size_t(scenario_model_part)].resolved_toml, "<resolved>");
    if (auto* model = part["model"].as_table()) resolved.insert_or_assign("model", *model);
  }
  if (scenario.disaggregated()) {  // the decode side's router, default included
    toml::table* routing = resolved["routing"].as_table();
    if (routing && !routing->contains("decode")) {
      toml::table decode;
      decode.insert_or_assign("policy", scenario.decode_router);
      routing->insert_or_assign("decode", std::move(decode));
    }
  }
  scenario.resolved_toml = to_toml_text(resolved);
  return scenario;
}

namespace {
template <std::size_t N>
void copy_text(char (&to)[N], const std::string& from) {
  std::memset(to, 0, N);
  std::memcpy(to, from.data(), std::min(N - 1, from.size()));
}

results::GroupRecord group_row(const std::string& name, const std::string& role, const std::string& model,
                               const std::string& gpu, int tp, int count) {
  results::GroupRecord row;
  copy_text(row.name, name);
  copy_text(row.role, role);
  copy_text(row.model, model);
  copy_text(row.gpu, gpu);
  row.tp = std::uint32_t(tp);
  row.instances = std::uint32_t(count);
  return row;
}
}  // namespace

void summary_groups(const Scenario& scenario, std::vector<results::GroupRecord>& rows,
                    std::vector<std::int32_t>& instance_group) {
  rows.clear();
  instance_group.clear();
  if (scenario.groups.empty()) {
    rows.push_back(group_row("instances", "mixed", scenario.model.name, scenario.gpu.name, scenario.tp, scenario.instances));
    instance_group.assign(std::size_t(scenario.instances), 0);
    return;
  }
  for (const auto& g : scenario.groups) rows.push_back(group_row(g.name, g.role, g.model.name, g.gpu.name, g.tp, g.count));
  instance_group.assign(scenario.instance_group.begin(), scenario.instance_group.end());
}

}  // namespace kvsim::config
