#include "platforms/topology/fabric.hpp"

#include <algorithm>
#include <cmath>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

#include "sim/util/error.hpp"

namespace kvsim::topology {

namespace {

constexpr double kRouteProbeBytes = 1048576.0;  // same weighing as the routes inside a node

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double,
                                                    boost::property<boost::edge_index_t, std::size_t>>>;

Graph graph_of(const Fabric& fabric) {
  Graph g(fabric.switches.size());
  for (std::size_t i = 0; i < fabric.links.size(); ++i) {
    const auto& l = fabric.links[i];
    boost::add_edge(l.a, l.b, {l.latency + kRouteProbeBytes / l.bandwidth, i}, g);
  }
  return g;
}

}  // namespace

std::size_t Fabric::find(const std::string& name) const {
  for (std::size_t i = 0; i < switches.size(); ++i)
    if (switches[i].name == name) return i;
  return switches.size();
}

std::vector<std::size_t> Fabric::attached(bool memory_servers) const {
  std::vector<bool> used(switches.size(), false);
  for (auto s : node_switch) used[s] = true;
  if (memory_servers) used[memory_switch] = true;
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < used.size(); ++i)
    if (used[i]) out.push_back(i);
  return out;
}

Fabric make_star(std::size_t nodes) {
  Fabric f;
  f.kind = "star";
  f.switches.push_back({"switch", 0});
  f.node_switch.assign(nodes, 0);
  return f;
}

Fabric make_leaf_spine(const std::vector<double>& node_nic_bandwidth, std::size_t nodes_per_leaf,
                       double oversubscription, double uplink_latency) {
  Fabric f;
  f.kind = "leaf-spine";
  const std::size_t nodes = node_nic_bandwidth.size();
  const std::size_t leaves = (nodes + nodes_per_leaf - 1) / nodes_per_leaf;
  f.switches.push_back({"spine", 0});
  f.memory_switch = 0;
  for (std::size_t leaf = 0; leaf < leaves; ++leaf) {
    f.switches.push_back({"leaf" + std::to_string(leaf), 0});
    double down = 0;
    for (std::size_t n = leaf * nodes_per_leaf; n < std::min(nodes, (leaf + 1) * nodes_per_leaf); ++n) {
      down += node_nic_bandwidth[n];
      f.node_switch.push_back(leaf + 1);
    }
    f.links.push_back({"leaf" + std::to_string(leaf) + "-uplink", leaf + 1, 0, down / oversubscription, uplink_latency, 0});
  }
  return f;
}

void validate(const Fabric& fabric, const std::string& source) {
  if (fabric.switches.empty()) throw InputError(source, 0, "network", "the fabric has no switch");
  for (const auto& l : fabric.links) {
    const std::string element = "link \"" + l.name + "\"";
    if (l.a >= fabric.switches.size() || l.b >= fabric.switches.size())
      throw InputError(source, l.line, element, "joins a switch that does not exist");
    if (l.a == l.b)
      throw InputError(source, l.line, element, "joins switch \"" + fabric.switches[l.a].name + "\" to itself");
    if (!(l.bandwidth > 0) || !std::isfinite(l.bandwidth))
      throw InputError(source, l.line, element,
                       "bandwidth must be positive (got " + std::to_string(l.bandwidth) + " B/s)");
    if (!(l.latency >= 0)) throw InputError(source, l.line, element, "latency must not be negative");
  }
  const Graph g = graph_of(fabric);
  std::vector<int> component(fabric.switches.size());
  if (boost::connected_components(g, component.data()) > 1) {
    for (std::size_t i = 0; i < component.size(); ++i)
      if (component[i] != component[0]) {
        const auto& s = fabric.switches[i];
        throw InputError(source, s.line, "switch \"" + s.name + "\"",
                         "is not connected to switch \"" + fabric.switches[0].name +
                             "\": every host must be reachable from every other");
      }
  }
}

std::vector<std::vector<Hop>> routes_from(const Fabric& fabric, std::size_t src) {
  const Graph g = graph_of(fabric);
  const std::size_t n = fabric.switches.size();
  std::vector<std::size_t> pred(n);
  std::vector<double> dist(n);
  boost::dijkstra_shortest_paths(g, src, boost::predecessor_map(pred.data()).distance_map(dist.data()));
  const auto index = boost::get(boost::edge_index, g);
  std::vector<std::vector<Hop>> routes(n);
  for (std::size_t dst = 0; dst < n; ++dst) {
    if (dst == src || pred[dst] == dst) continue;
    auto& path = routes[dst];
    for (std::size_t v = dst; v != src; v = pred[v]) {
      const auto [e, found] = boost::edge(pred[v], v, g);
      (void)found;
      const std::size_t link = index[e];
      path.push_back({link, fabric.links[link].a == pred[v]});
    }
    std::reverse(path.begin(), path.end());
  }
  return routes;
}

}  // namespace kvsim::topology
