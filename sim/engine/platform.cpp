#include "sim/engine/platform.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <map>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include "platforms/topology/fabric.hpp"
#include "sim/engine/platform_xml.hpp"

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kRouteProbeBytes = 1048576.0;  // message size that weighs latency against bandwidth
constexpr double kCpuSpeed = 1e12;              // host CPU FLOP/s; nothing computes there yet

struct Edge {
  sg4::SplitDuplexLink* link;
  std::size_t up_end;  // vertex from which traversal uses the UP direction
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double, boost::property<boost::edge_index_t, std::size_t>>>;

// The graph of one zone (a node): vertices are hosts, routers (gateways) or plain graph
// vertices (an NVSwitch), edges are split-duplex links; routes are added between every
// ordered pair of hosts and routers along the weighted shortest path.
class TopologyBuilder {
 public:
  explicit TopologyBuilder(sg4::NetZone* zone) : zone_(zone) {}

  std::size_t add_vertex(sg4::Host* host) { return add_vertex(host ? host->get_netpoint() : nullptr); }
  std::size_t add_vertex(simgrid::kernel::routing::NetPoint* point) {
    points_.push_back(point);
    return boost::add_vertex(graph_);
  }

  // A full-duplex link between a and b; a → b (UP) carries bandwidth, b → a (DOWN)
  // down_bandwidth when given (else the same).
  void connect(std::size_t a, std::size_t b, const std::string& name, double bandwidth, double latency,
               double down_bandwidth = 0) {
    auto* link = zone_->create_split_duplex_link(name, bandwidth);
    link->set_latency(latency);
    if (down_bandwidth > 0) link->get_link_down()->set_bandwidth(down_bandwidth);
    const double weight = latency + kRouteProbeBytes / bandwidth;
    boost::add_edge(a, b, {weight, edges_.size()}, graph_);
    edges_.push_back({link, a});
    links_.push_back(link->get_link_up());
    links_.push_back(link->get_link_down());
  }

  const std::vector<sg4::Link*>& all_links() const { return links_; }
  std::size_t links() const { return edges_.size(); }

  // One route per ordered pair of hosts and routers, along the weighted shortest path.
  std::size_t add_routes() {
    const std::size_t n = boost::num_vertices(graph_);
    std::size_t routes = 0;
    auto index = boost::get(boost::edge_index, graph_);
    for (std::size_t src = 0; src < n; ++src) {
      if (!points_[src]) continue;
      std::vector<std::size_t> pred(n);
      std::vector<double> dist(n);
      boost::dijkstra_shortest_paths(graph_, src, boost::predecessor_map(pred.data()).distance_map(dist.data()));
      for (std::size_t dst = 0; dst < n; ++dst) {
        if (dst == src || !points_[dst] || pred[dst] == dst) continue;
        std::vector<sg4::LinkInRoute> path;
        for (std::size_t v = dst; v != src; v = pred[v]) {
          const auto [e, found] = boost::edge(pred[v], v, graph_);
          (void)found;
          const Edge& edge = edges_[index[e]];
          const auto direction = pred[v] == edge.up_end ? sg4::LinkInRoute::Direction::UP : sg4::LinkInRoute::Direction::DOWN;
          path.emplace_back(edge.link, direction);
        }
        std::reverse(path.begin(), path.end());
        zone_->add_route(points_[src], points_[dst], nullptr, nullptr, path, false);
        ++routes;
      }
    }
    return routes;
  }

 private:
  sg4::NetZone* zone_;
  Graph graph_;
  std::vector<simgrid::kernel::routing::NetPoint*> points_;  // nullptr for plain vertices
  std::vector<Edge> edges_;
  std::vector<sg4::Link*> links_;
};

// A star zone's member reaches everything through these links (up: leaving it).
void star_member(sg4::NetZone* star, simgrid::kernel::routing::NetPoint* member, simgrid::kernel::routing::NetPoint* gateway,
                 sg4::SplitDuplexLink* link) {
  std::vector<sg4::LinkInRoute> up, down;
  if (link) {
    up.emplace_back(link, sg4::LinkInRoute::Direction::UP);
    down.emplace_back(link, sg4::LinkInRoute::Direction::DOWN);
  }
  star->add_route(member, nullptr, gateway, nullptr, up, false);
  star->add_route(nullptr, member, nullptr, gateway, down, false);
}

void append(std::vector<sg4::Link*>& to, const std::vector<sg4::Link*>& from) { to.insert(to.end(), from.begin(), from.end()); }

}  // namespace

// Zones: one full zone per node (its GPUs, CPU side, SSD, NVSwitch, and a gateway router
// where its NICs end), inside a star zone per switch that has nodes or memory servers on
// it; with several such switches, a full zone over them routes between switches along the
// fabric's weighted shortest paths. A route between two nodes on one switch is therefore
// exactly sender NIC + receiver NIC, as in a single flat zone, and routes are stored per
// node (11 x 10 for a DGX) plus per pair of switches, not per pair of hosts. A scenario
// with one node and no remote pool has no fabric: its node zone is the whole platform.
Platform build_platform(const config::Scenario& scenario) {
  if (!scenario.cluster.platform_xml.empty()) return load_platform_xml(scenario);  // sim/engine/platform_xml.hpp
  Platform platform;
  const auto& cluster = scenario.cluster;
  const auto& fabric = cluster.fabric;
  const double efficiency = scenario.kv.transfer_efficiency;
  const bool fabric_used = cluster.nics;
  const bool remote = scenario.kv.has("remote");

  // The root zone must be created first.
  sg4::NetZone* root = nullptr;
  std::vector<sg4::NetZone*> switch_zone(fabric.switches.size(), nullptr);
  std::vector<simgrid::kernel::routing::NetPoint*> switch_router(fabric.switches.size(), nullptr);
  const auto attached = fabric_used ? fabric.attached(remote) : std::vector<std::size_t>{};
  if (attached.size() == 1) {
    root = sg4::create_star_zone("fabric");
    switch_zone[attached[0]] = root;
  } else if (attached.size() > 1) {
    root = sg4::create_full_zone("fabric");
    for (auto s : attached) {
      switch_zone[s] = sg4::create_star_zone("switch-" + fabric.switches[s].name);
      switch_zone[s]->set_parent(root);
      // SimGrid routes between a zone's member zones, so the switch's router (the gateway
      // of the inter-switch routes) sits in a zone of its own.
      auto* port = sg4::create_star_zone("port-" + fabric.switches[s].name);
      port->set_parent(switch_zone[s]);
      switch_router[s] = port->create_router(fabric.switches[s].name);
      star_member(switch_zone[s], port->get_netpoint(), switch_router[s], nullptr);
    }
  }

  for (int n = 0; n < cluster.nodes(); ++n) {
    const auto& group = cluster.group_of(n);
    const auto& node = group.node;
    const auto& gpu_card = group.gpu;
    const std::string prefix = "node" + std::to_string(n);
    auto* zone = sg4::create_full_zone(prefix);
    if (root) zone->set_parent(switch_zone[fabric.node_switch[std::size_t(n)]]);
    TopologyBuilder topology(zone);
    auto* cpu = zone->create_host(prefix + "-cpu", kCpuSpeed);
    platform.cpus.push_back(cpu);
    const std::size_t cpu_v = topology.add_vertex(cpu);
    for (const auto& tier : scenario.kv.lower) {
      if (tier.kind != "ssd") continue;
      auto* ssd = zone->create_host(prefix + "-ssd", kCpuSpeed);
      platform.ssds.push_back(ssd);
      // Up (drive → CPU side) is a read, down is a write.
      topology.connect(topology.add_vertex(ssd), cpu_v, prefix + "-ssd", tier.read_bandwidth, 0.0, tier.write_bandwidth);
    }
    // The gateway stands for the switch port side of the node's NICs.
    simgrid::kernel::routing::NetPoint* gateway = fabric_used ? zone->create_router(prefix + "-gw") : nullptr;
    const std::size_t gw_v = topology.add_vertex(gateway);
    const bool nics = fabric_used && node.nic_bandwidth > 0;
    if (nics) topology.connect(cpu_v, gw_v, prefix + "-cpu-nic", node.nic_bandwidth * efficiency, node.nic_latency);
    const std::size_t nvswitch = node.nvswitch ? topology.add_vertex(static_cast<sg4::Host*>(nullptr)) : 0;
    std::vector<std::size_t> gpu_v;
    platform.gpus.emplace_back();
    for (int g = 0; g < node.gpus; ++g) {
      const std::string name = prefix + "-gpu" + std::to_string(g);
      auto* gpu = zone->create_host(name, gpu_card.flops);
      platform.gpus.back().push_back(gpu);
      gpu_v.push_back(topology.add_vertex(gpu));
      topology.connect(gpu_v.back(), cpu_v, name + "-pcie", gpu_card.pcie_bandwidth * efficiency, node.pcie_latency);
      if (node.nvswitch)
        topology.connect(gpu_v.back(), nvswitch, name + "-nvlink", gpu_card.nvlink_bandwidth, node.nvlink_latency);
      if (nics) topology.connect(gpu_v.back(), gw_v, name + "-nic", node.nic_bandwidth * efficiency, node.nic_latency);
    }
    if (!node.nvswitch && node.gpus > 1) {
      // Point-to-point NVLink mesh: a GPU's links share its total NVLink bandwidth.
      const double per_link = gpu_card.nvlink_bandwidth / (node.gpus - 1);
      for (int a = 0; a < node.gpus; ++a)
        for (int b = a + 1; b < node.gpus; ++b)
          topology.connect(gpu_v[a], gpu_v[b], prefix + "-nvlink-" + std::to_string(a) + "-" + std::to_string(b),
                           per_link, node.nvlink_latency);
    }
    platform.routes += topology.add_routes();
    append(platform.all_links, topology.all_links());
    platform.links += topology.links();
    if (root) star_member(switch_zone[fabric.node_switch[std::size_t(n)]], zone->get_netpoint(), gateway, nullptr);
    if (!root) root = zone;
  }

  if (attached.size() > 1) {
    // Switch-to-switch links, then one route per ordered pair of attached switches.
    std::vector<sg4::SplitDuplexLink*> links;
    for (const auto& l : fabric.links) {
      auto* link = root->create_split_duplex_link(l.name, l.bandwidth * efficiency);
      link->set_latency(l.latency);
      links.push_back(link);
      platform.all_links.push_back(link->get_link_up());
      platform.all_links.push_back(link->get_link_down());
      ++platform.links;
    }
    for (auto src : attached) {
      const auto routes = topology::routes_from(fabric, src);
      for (auto dst : attached) {
        if (dst == src) continue;
        std::vector<sg4::LinkInRoute> path;
        for (const auto& hop : routes[dst])
          path.emplace_back(links[hop.link], hop.up ? sg4::LinkInRoute::Direction::UP : sg4::LinkInRoute::Direction::DOWN);
        root->add_route(switch_zone[src]->get_netpoint(), switch_zone[dst]->get_netpoint(), switch_router[src],
                        switch_router[dst], path, false);
        ++platform.routes;
      }
    }
  }

  for (const auto& tier : scenario.kv.lower) {
    if (tier.kind != "remote") continue;
    // The memory servers form a zone of their own on their switch, each behind its NIC link.
    auto* pool = sg4::create_star_zone("pool");
    pool->set_parent(switch_zone[fabric.memory_switch]);
    auto* pool_gateway = pool->create_router("pool-gw");
    star_member(switch_zone[fabric.memory_switch], pool->get_netpoint(), pool_gateway, nullptr);
    for (int k = 0; k < tier.servers; ++k) {
      const std::string name = "remote" + std::to_string(k);
      auto* server = pool->create_host(name, kCpuSpeed);
      platform.memory_servers.push_back(server);
      auto* link = pool->create_split_duplex_link(name + "-nic", tier.server_bandwidth * efficiency);
      link->set_latency(tier.server_latency);
      star_member(pool, server->get_netpoint(), nullptr, link);
      platform.all_links.push_back(link->get_link_up());
      platform.all_links.push_back(link->get_link_down());
      ++platform.links;
    }
  }
  root->seal();
  return platform;
}

// LV08's correction factors are calibrated for TCP over Ethernet; NVLink, PCIe and RDMA
// transfers follow the textbook latency + size / bandwidth model (CM02), without the
// reverse-direction traffic of TCP acknowledgements (crosstraffic). CM02 also caps each
// Comm's rate at TCP-gamma / (2 x route latency), a TCP window bound (default 4 MiB): at
// 100 us per NIC it held a 50 GB/s NIC to 10.5 GB/s, and it would cap a 900 GB/s NVLink
// route of 4 us, unlike the RDMA and NVLink copies kvsim models and unlike the bottleneck
// `kvsim platform show --route` prints. TCP-gamma 0 removes the bound (SimGrid bounds a
// rate only when the bound is positive).
std::vector<std::string> network_model_arguments() {
  return {"--cfg=network/model:CM02", "--cfg=network/crosstraffic:0", "--cfg=network/TCP-gamma:0"};
}

}  // namespace kvsim::engine
