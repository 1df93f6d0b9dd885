// Cluster cards (platforms/clusters/*.toml): node groups (count x node card, heterogeneous
// groups allowed), the NICs of each node (from its node card, overridable per group), the
// network (star, leaf-spine with an oversubscription, or an explicit graph of switches and
// links) and where the remote pool's memory servers sit. Read once into
// config::ClusterSpec and validated as a graph (platforms/topology/fabric.hpp).
//
// Card format (every key documented by `kvsim describe cluster`):
//   name, source
//   [[node_groups]]  name, node (card or path), count, switch (graph: a switch name or an
//                    array of them; the group's nodes fill them in order, evenly),
//                    nic_bandwidth, nic_latency (override the node card's, per GPU)
//   [network]        topology = "star" | "leaf-spine" | "graph"
//                    leaf-spine: nodes_per_leaf, oversubscription, uplink_latency
//                    graph: [[network.switches]] name; [[network.links]] name, from, to,
//                           bandwidth, latency
//   [memory_servers] switch (default: the star's switch, the spine, or the graph's first)
//   platform_xml     a SimGrid XML platform file (path relative to the card) that replaces
//                    [network]: the file gives hosts, links and routes, the node groups the
//                    hardware figures (sim/engine/platform_xml.hpp maps hosts to nodes)
// Nodes are numbered in group order; node n's hosts are node<n>-cpu, node<n>-gpu<g>, ...
#pragma once

#include <functional>
#include <string>

#include "sim/config/scenario.hpp"

namespace kvsim::config {

// Reads the cluster card named ref (embedded name or path, relative to base_dir); `at` and
// `key` locate the reference for errors. Throws InputError naming the card, line and element.
ClusterSpec read_cluster_card(Section& at, std::string_view key, const std::string& ref, const std::string& base_dir);

// The cluster of a scenario without a card: `nodes` identical nodes on one switch.
ClusterSpec identical_nodes(const NodeSpec& node, const compute::GpuCard& gpu, int nodes);

// Places count instances of tp GPUs each, node by node: an instance takes the next tp free
// GPUs of the first node (in node order) that still has tp free GPUs, so an instance never
// spans nodes and a node fills up before the next one is used. Only nodes for which allowed
// (when given) is true are used. used[node] counts GPUs already taken (earlier groups) and
// is updated. Returns false when the GPUs run out.
bool place_instances(const ClusterSpec& cluster, int count, int tp, std::vector<int>& used,
                     std::vector<InstancePlacement>& out, const std::function<bool(int node)>& allowed = {});

// Documentation of every cluster card key (for `kvsim describe cluster`).
std::vector<ParamDoc> describe_cluster_card();

// Node card by name or path with its GPU card (defined in scenario.cpp, which owns the card
// readers).
std::pair<NodeSpec, compute::GpuCard> load_node_card(Section& at, std::string_view key, const std::string& ref,
                                                     const std::string& base_dir);

}  // namespace kvsim::config
