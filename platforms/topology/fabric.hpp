// The cluster fabric as a graph of switches and full-duplex links, with the nodes and the
// remote pool's memory servers attached to switches. Pure code (Boost.Graph, no SimGrid):
// the scenario loader builds and validates it, the engine installs it as SimGrid zones
// (sim/engine/platform.cpp), and tests check its routes by hand.
//
// Why a folder of its own (platforms/topology/): the cards in platforms/ describe hardware
// as data; this is the code that turns a cluster card into a checked graph, shared by the
// config loader, the platform builder and `kvsim platform show`, and it must stay free of
// SimGrid so that it is unit-testable.
//
// Shapes (built by make_star / make_leaf_spine, or given as an explicit graph):
//   star        one switch; every node's NICs end on it (a route between two nodes crosses
//               only their NIC links).
//   leaf-spine  nodes_per_leaf nodes on each leaf switch; the spine layer is one switch and
//               each leaf has one aggregate uplink to it whose bandwidth is the leaf's NIC
//               bandwidth divided by the oversubscription (ECMP spreads flows over every
//               spine, which a fluid model sees as one link of the summed capacity).
//   graph       switches and links named in the card; nodes attach where their group says.
// Routes between switches are weighted shortest paths, weight = latency + 1 MiB / bandwidth
// (the same weighing as inside a node, so a route prefers fewer slow hops).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace kvsim::topology {

struct Switch {
  std::string name;
  long line = 0;  // card line that declared it (0: implied by the shape)
};

struct FabricLink {
  std::string name;
  std::size_t a = 0, b = 0;  // switch indices; traversing a → b uses the link's UP direction
  double bandwidth = 0;      // B/s per direction
  double latency = 0;        // s
  long line = 0;             // card line (0: implied by the shape)
};

// One hop of a route: which fabric link, in which direction.
struct Hop {
  std::size_t link = 0;
  bool up = true;  // a → b
};

struct Fabric {
  std::string kind;  // "star", "leaf-spine" or "graph"
  std::vector<Switch> switches;
  std::vector<FabricLink> links;
  std::vector<std::size_t> node_switch;  // [node] → switch its NICs end on
  std::size_t memory_switch = 0;         // switch of the remote pool's memory servers

  std::size_t find(const std::string& name) const;  // index, or switches.size() if absent
  // Switches that have nodes or the memory servers attached (the ones the engine makes
  // zones of), in index order; memory_servers: whether the pool exists.
  std::vector<std::size_t> attached(bool memory_servers) const;
};

// One switch, every node on it.
Fabric make_star(std::size_t nodes);
// Leaves of nodes_per_leaf nodes (the last may have fewer) and one spine switch; uplink of
// leaf i = sum of its nodes' NIC bandwidth (node_nic_bandwidth[node]) / oversubscription.
// Memory servers attach to the spine.
Fabric make_leaf_spine(const std::vector<double>& node_nic_bandwidth, std::size_t nodes_per_leaf,
                       double oversubscription, double uplink_latency);

// Checks the fabric: every link has a positive bandwidth and a non-negative latency and
// joins two distinct known switches, and every switch is reachable from every other.
// Throws InputError(source, line, element, ...) naming the offending switch or link.
void validate(const Fabric& fabric, const std::string& source);

// Weighted shortest routes from switch src to every switch (empty for src itself).
std::vector<std::vector<Hop>> routes_from(const Fabric& fabric, std::size_t src);

}  // namespace kvsim::topology
