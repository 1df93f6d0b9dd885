#include "sim/config/instance_groups.hpp"

#include "sim/config/cluster_card.hpp"

namespace kvsim::config {

namespace {

std::string source_of(const toml::node& node) {
  return node.source().path ? std::string(*node.source().path) : std::string("<config>");
}

[[noreturn]] void fail_at(const toml::node& node, const std::string& field, const std::string& message) {
  throw InputError(source_of(node), long(node.source().begin.line), field, message);
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
  if (prefill == decode) return;
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

Scenario read_with_instance_groups(toml::table& doc, const std::function<Scenario(const toml::table&)>& parse) {
  toml::node* node = doc.get("instances");
  toml::array* found = node ? node->as_array() : nullptr;
  if (!found) {
    Scenario scenario = parse(doc);
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

  std::vector<Scenario> parts;
  std::vector<InstanceGroupSpec> groups;
  std::vector<long> group_lines;
  std::vector<long> role_lines;  // the role key's line (the group's when absent), for role errors
  std::vector<std::string> group_sources;
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto* table = array[i].as_table();
    const std::string field = "instances[" + std::to_string(i) + "]";
    if (!table) fail_at(array[i], field, "expected a table ([[instances]])");
    group_lines.push_back(long(table->source().begin.line));
    role_lines.push_back(group_lines.back());
    group_sources.push_back(source_of(*table));
    InstanceGroupSpec group;
    group.name = "group" + std::to_string(i);
    if (const auto* name = table->get("name")) {
      if (!name->is_string()) fail_at(*name, field + ".name", "expected a string");
      group.name = name->as_string()->get();
    }
    if (const auto* role = table->get("role")) {
      const auto* text = role->as_string();
      if (!text || (text->get() != "mixed" && text->get() != "prefill" && text->get() != "decode"))
        fail_at(*role, field + ".role", "expected \"mixed\", \"prefill\" or \"decode\"");
      group.role = text->get();
      role_lines.back() = long(role->source().begin.line);
    }
    if (const auto* model = table->get("model")) {
      if (!model->is_string() || model->as_string()->get() != scenario_model)
        fail_at(*model, field + ".model",
                "every group serves the scenario's [model] (\"" + scenario_model +
                    "\") for now; per-group models are not supported");
    }
    for (const char* key : {"name", "role", "model"}) table->erase(key);
    doc.insert_or_assign("instances", std::move(*table));
    Scenario part = parse(doc);
    group.count = part.instances;
    group.tp = part.tp;
    group.hbm_utilization = part.hbm_utilization;
    group.activation_reserve = part.activation_reserve;
    group.engine = part.engine;
    group.engine.prefill_only = group.role == "prefill";
    groups.push_back(group);
    parts.push_back(std::move(part));
  }

  Scenario scenario = parts.front();
  scenario.groups = groups;
  check_roles(groups, group_sources, role_lines);
  check_decode_router(doc, scenario);
  if (scenario.disaggregated() && scenario.decode_router.empty()) scenario.decode_router = "least_loaded";
  scenario.instances = 0;
  scenario.placement.clear();
  scenario.instance_group.clear();
  std::vector<int> used;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!place_instances(scenario.cluster, groups[g].count, groups[g].tp, used, scenario.placement))
      throw InputError(group_sources[g], group_lines[g], "instances[" + std::to_string(g) + "].count",
              "group \"" + groups[g].name + "\" does not fit: the groups before it leave fewer than " +
                  std::to_string(groups[g].count) + " places of " + std::to_string(groups[g].tp) +
                  " GPUs on one node (placement fills node by node)");
    if (const std::string why = mixed_gpu_placement(scenario.cluster, scenario.placement, scenario.gpu.name); !why.empty())
      throw InputError(group_sources[g], group_lines[g], "instances[" + std::to_string(g) + "].count", why);
    scenario.instances += groups[g].count;
    scenario.instance_group.insert(scenario.instance_group.end(), std::size_t(groups[g].count), int(g));
  }

  // Resolved config: every group's resolved [instances] (defaults filled in), as an array.
  toml::table resolved = parse_toml(scenario.resolved_toml, "<resolved>");
  toml::array all;
  for (std::size_t g = 0; g < parts.size(); ++g) {
    toml::table part = parse_toml(parts[g].resolved_toml, "<resolved>");
    toml::table instances = part["instances"].as_table() ? *part["instances"].as_table() : toml::table{};
    instances.insert_or_assign("name", groups[g].name);
    instances.insert_or_assign("role", groups[g].role);
    all.push_back(std::move(instances));
  }
  resolved.insert_or_assign("instances", std::move(all));
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

}  // namespace kvsim::config
