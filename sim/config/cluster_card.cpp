#include "sim/config/cluster_card.hpp"

#include <filesystem>

#include "sim/config/embedded.hpp"
#include "sim/util/text.hpp"

namespace kvsim::config {

namespace {

// The [[name]] array of tables under s (empty when absent); each element becomes a Section
// whose path is "name[i]" for error messages.
std::vector<const toml::table*> table_array(Section& s, std::string_view key) {
  std::vector<const toml::table*> out;
  const toml::node* node = s.raw(key);
  if (!node) return out;
  const auto* array = node->as_array();
  if (!array) s.fail(key, "expected an array of tables ([[" + s.dotted(key) + "]])");
  for (const auto& element : *array) {
    const auto* table = element.as_table();
    if (!table) s.fail(key, "expected an array of tables ([[" + s.dotted(key) + "]])");
    out.push_back(table);
  }
  return out;
}

long line_of(const toml::table* table) { return long(table->source().begin.line); }

ClusterSpec read_card(const toml::table& doc, const std::string& source, const std::string& base_dir,
                      const std::shared_ptr<ReadContext>& context) {
  ClusterSpec cluster;
  cluster.source = source;
  cluster.nics = true;
  Section root(&doc, "", context);
  cluster.name = root.text("name", "", "cluster name");
  root.text("source", "", "where the figures come from");

  std::vector<std::vector<std::string>> group_switches;
  std::vector<Section> group_sections;
  const auto groups = table_array(root, "node_groups");
  if (groups.empty()) root.fail("node_groups", "a cluster card needs at least one [[node_groups]] table");
  for (std::size_t i = 0; i < groups.size(); ++i) {
    Section g(groups[i], "node_groups[" + std::to_string(i) + "]", context);
    NodeGroupSpec group;
    const std::string node_ref = g.text("node", "dgx-h100", "node card of the group (name or path)");
    auto [node, gpu] = load_node_card(g, "node", node_ref, base_dir);
    group.node = node;
    group.gpu = gpu;
    group.name = g.text("name", node.name, "group name (default: the node card's name)");
    group.count = int(g.integer("count", 1, "nodes in the group", 1, 100000));
    group.node.nic_bandwidth = g.quantity("nic_bandwidth", Dimension::bandwidth, node.nic_bandwidth,
                                          "NIC bandwidth per GPU (default: the node card's)", Range::positive());
    group.node.nic_latency = g.quantity("nic_latency", Dimension::time, node.nic_latency,
                                        "NIC latency (default: the node card's)");
    std::vector<std::string> switches;
    if (const toml::node* sw = g.raw("switch")) {
      if (const auto* one = sw->as_string()) switches.push_back(one->get());
      else if (const auto* many = sw->as_array()) {
        for (const auto& e : *many) {
          if (!e.as_string()) g.fail("switch", "expected a switch name or an array of switch names");
          switches.push_back(e.as_string()->get());
        }
      } else {
        g.fail("switch", "expected a switch name or an array of switch names");
      }
      if (switches.empty()) g.fail("switch", "expected at least one switch name");
    }
    for (int n = 0; n < group.count; ++n) cluster.node_group.push_back(int(i));
    cluster.groups.push_back(group);
    group_switches.push_back(switches);
    group_sections.push_back(g);
  }

  // platform_xml: the network (and every host) comes from a SimGrid platform file instead.
  const std::string xml = root.text("platform_xml", "",
                                    "SimGrid XML platform file (path relative to the card) replacing [network]: hosts "
                                    "map to GPUs and CPUs by kvsim.* properties or by name (sim/engine/platform_xml.hpp)");
  if (!xml.empty()) {
    if (root.raw("network")) root.fail("network", "a card with platform_xml takes its network from the XML file");
    std::filesystem::path path(xml);
    if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
    if (!std::filesystem::is_regular_file(path)) root.fail("platform_xml", "no such file: " + path.string());
    cluster.platform_xml = path.string();
  }

  Section net = root.table("network");
  static const std::vector<std::string> kinds{"star", "leaf-spine", "graph"};
  const std::string kind = net.choice("topology", "star", kinds,
                                      "star (one switch), leaf-spine (leaves and an aggregate spine) or graph "
                                      "(switches and links listed in the card)");
  const std::size_t nodes = cluster.node_group.size();
  if (kind == "star") {
    cluster.fabric = topology::make_star(nodes);
  } else if (kind == "leaf-spine") {
    const auto per_leaf = net.integer("nodes_per_leaf", 8, "nodes on each leaf switch", 1, 100000);
    const double over = net.number("oversubscription", 1.0,
                                   "leaf downlink bandwidth (its nodes' GPU NICs) / uplink bandwidth",
                                   Range::positive());
    const double latency = net.quantity("uplink_latency", Dimension::time, 1e-6, "latency of a leaf's uplink");
    std::vector<double> nic(nodes);
    for (std::size_t n = 0; n < nodes; ++n) {
      const auto& node = cluster.group_of(int(n)).node;
      nic[n] = node.nic_bandwidth * node.gpus;
    }
    cluster.fabric = topology::make_leaf_spine(nic, std::size_t(per_leaf), over, latency);
  } else {
    cluster.fabric.kind = "graph";
    const auto switches = table_array(net, "switches");
    if (switches.empty()) net.fail("switches", "a graph network needs [[network.switches]] tables");
    for (std::size_t i = 0; i < switches.size(); ++i) {
      Section s(switches[i], "network.switches[" + std::to_string(i) + "]", context);
      s.require("name");
      const std::string name = s.text("name", "", "switch name");
      if (cluster.fabric.find(name) < cluster.fabric.switches.size()) s.fail("name", "duplicate switch \"" + name + "\"");
      cluster.fabric.switches.push_back({name, line_of(switches[i])});
      s.finish();
    }
    const auto links = table_array(net, "links");
    for (std::size_t i = 0; i < links.size(); ++i) {
      Section l(links[i], "network.links[" + std::to_string(i) + "]", context);
      l.require("from");
      l.require("to");
      l.require("bandwidth");
      topology::FabricLink link;
      const std::string from = l.text("from", "", "switch at one end (the UP direction leaves it)");
      const std::string to = l.text("to", "", "switch at the other end");
      link.name = l.text("name", from + "-" + to, "link name (default: from-to)");
      for (const auto& [key, end] : {std::pair{"from", &from}, std::pair{"to", &to}})
        if (cluster.fabric.find(*end) == cluster.fabric.switches.size())
          l.fail(key, "unknown switch \"" + *end + "\"");
      link.a = cluster.fabric.find(from);
      link.b = cluster.fabric.find(to);
      // Any value is read here: the topology check below names the link when it is not positive.
      link.bandwidth = l.quantity("bandwidth", Dimension::bandwidth, 0, "bandwidth per direction", Range{});
      link.latency = l.quantity("latency", Dimension::time, 0, "latency", Range{});
      link.line = line_of(links[i]);
      cluster.fabric.links.push_back(link);
      l.finish();
    }
    // Nodes of a group fill its switches in order, in equal shares.
    cluster.fabric.node_switch.resize(nodes);
    std::size_t node = 0;
    for (std::size_t g = 0; g < cluster.groups.size(); ++g) {
      auto& names = group_switches[g];
      if (names.empty()) names.push_back(cluster.fabric.switches[0].name);
      const std::size_t count = std::size_t(cluster.groups[g].count);
      for (std::size_t k = 0; k < count; ++k, ++node) {
        const std::string& name = names[k * names.size() / count];
        const std::size_t s = cluster.fabric.find(name);
        if (s == cluster.fabric.switches.size()) group_sections[g].fail("switch", "unknown switch \"" + name + "\"");
        cluster.fabric.node_switch[node] = s;
      }
    }
  }
  if (kind != "graph")
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (!group_switches[g].empty())
        group_sections[g].fail("switch", "only a graph network places nodes on named switches");
  for (auto& g : group_sections) g.finish();
  net.finish();

  Section pool = root.table("memory_servers");
  const std::string default_switch = kind == "leaf-spine" ? "spine" : cluster.fabric.switches[0].name;
  const std::string pool_switch = pool.text("switch", default_switch,
                                            "switch the remote KV pool's memory servers attach to");
  cluster.fabric.memory_switch = cluster.fabric.find(pool_switch);
  if (cluster.fabric.memory_switch == cluster.fabric.switches.size())
    pool.fail("switch", "unknown switch \"" + pool_switch + "\"");
  pool.finish();
  root.finish();
  topology::validate(cluster.fabric, source);
  if (!cluster.platform_xml.empty()) cluster.fabric.kind = "xml";  // its one-switch fabric stands unused
  return cluster;
}

}  // namespace

ClusterSpec read_cluster_card(Section& at, std::string_view key, const std::string& ref, const std::string& base_dir) {
  std::string text, source, card_dir = base_dir;
  if (ref.ends_with(".toml") || ref.find('/') != std::string::npos) {
    std::filesystem::path path(ref);
    if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
    source = path.string();
    card_dir = path.parent_path().string();
    text = read_text_file(source, at.dotted(key));
  } else if (const EmbeddedFile* card = find_embedded("cluster", ref)) {
    source = std::string(card->path);
    text = std::string(card->text);
  } else {
    std::vector<std::string> names;
    for (const auto& f : embedded_files())
      if (f.kind == std::string_view("cluster")) names.emplace_back(f.name);
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    std::string message = "unknown cluster card \"" + ref + "\"; known cards: " + list + " (or give a path to a .toml card)";
    if (auto near = closest_match(ref, names); !near.empty()) message += "; did you mean \"" + near + "\"?";
    at.fail(key, message);
  }
  const toml::table doc = parse_toml(text, source);
  auto context = std::make_shared<ReadContext>();
  context->default_source = source;
  context->record_resolved = false;
  return read_card(doc, source, card_dir, context);
}

ClusterSpec identical_nodes(const NodeSpec& node, const compute::GpuCard& gpu, int nodes) {
  ClusterSpec cluster;
  cluster.groups.push_back({node.name, nodes, node, gpu});
  cluster.node_group.assign(std::size_t(nodes), 0);
  cluster.fabric = topology::make_star(std::size_t(nodes));
  return cluster;
}

bool place_instances(const ClusterSpec& cluster, int count, int tp, std::vector<int>& used,
                     std::vector<InstancePlacement>& out, const std::function<bool(int node)>& allowed) {
  used.resize(std::size_t(cluster.nodes()), 0);
  const auto usable = [&](int node) {
    return (!allowed || allowed(node)) && cluster.group_of(node).node.gpus - used[std::size_t(node)] >= tp;
  };
  int node = 0;
  for (int i = 0; i < count; ++i) {
    while (node < cluster.nodes() && !usable(node)) ++node;
    if (node == cluster.nodes()) return false;
    out.push_back({node, used[std::size_t(node)]});
    used[std::size_t(node)] += tp;
  }
  return true;
}

std::vector<ParamDoc> describe_cluster_card() {
  const EmbeddedFile* card = find_embedded("cluster", "h100-32node");
  auto context = std::make_shared<ReadContext>();
  context->record_resolved = false;
  read_card(parse_toml(card->text, std::string(card->path)), std::string(card->path), ".", context);
  return context->docs;
}

}  // namespace kvsim::config
