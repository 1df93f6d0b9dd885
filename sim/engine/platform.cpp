#include "sim/engine/platform.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <map>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

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

class TopologyBuilder {
 public:
  explicit TopologyBuilder(sg4::NetZone* zone) : zone_(zone) {}

  std::size_t add_vertex(sg4::Host* host) {
    hosts_.push_back(host);
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

  // One route per ordered pair of hosts, along the weighted shortest path.
  std::size_t add_routes() {
    const std::size_t n = boost::num_vertices(graph_);
    std::size_t routes = 0;
    auto index = boost::get(boost::edge_index, graph_);
    for (std::size_t src = 0; src < n; ++src) {
      if (!hosts_[src]) continue;
      std::vector<std::size_t> pred(n);
      std::vector<double> dist(n);
      boost::dijkstra_shortest_paths(graph_, src, boost::predecessor_map(pred.data()).distance_map(dist.data()));
      for (std::size_t dst = 0; dst < n; ++dst) {
        if (dst == src || !hosts_[dst] || pred[dst] == dst) continue;
        std::vector<sg4::LinkInRoute> path;
        for (std::size_t v = dst; v != src; v = pred[v]) {
          const auto [e, found] = boost::edge(pred[v], v, graph_);
          (void)found;
          const Edge& edge = edges_[index[e]];
          const auto direction = pred[v] == edge.up_end ? sg4::LinkInRoute::Direction::UP : sg4::LinkInRoute::Direction::DOWN;
          path.emplace_back(edge.link, direction);
        }
        std::reverse(path.begin(), path.end());
        zone_->add_route(hosts_[src]->get_netpoint(), hosts_[dst]->get_netpoint(), nullptr, nullptr, path, false);
        ++routes;
      }
    }
    return routes;
  }

 private:
  sg4::NetZone* zone_;
  Graph graph_;
  std::vector<sg4::Host*> hosts_;  // nullptr for switch vertices
  std::vector<Edge> edges_;
  std::vector<sg4::Link*> links_;
};

}  // namespace

Platform build_platform(const config::Scenario& scenario) {
  auto* zone = sg4::create_full_zone("cluster");
  TopologyBuilder topology(zone);
  Platform platform;
  const auto& node = scenario.node;
  const double efficiency = scenario.kv.transfer_efficiency;
  const bool fabric_used = scenario.nodes > 1 || scenario.kv.has("remote");
  const std::size_t fabric = topology.add_vertex(nullptr);
  for (int n = 0; n < scenario.nodes; ++n) {
    const std::string prefix = "node" + std::to_string(n);
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
    if (fabric_used && node.nic_bandwidth > 0)
      topology.connect(cpu_v, fabric, prefix + "-cpu-nic", node.nic_bandwidth * efficiency, node.nic_latency);
    const std::size_t nvswitch = node.nvswitch ? topology.add_vertex(nullptr) : 0;
    std::vector<std::size_t> gpu_v;
    platform.gpus.emplace_back();
    for (int g = 0; g < node.gpus; ++g) {
      const std::string name = prefix + "-gpu" + std::to_string(g);
      auto* gpu = zone->create_host(name, scenario.gpu.flops);
      platform.gpus.back().push_back(gpu);
      gpu_v.push_back(topology.add_vertex(gpu));
      topology.connect(gpu_v.back(), cpu_v, name + "-pcie", scenario.gpu.pcie_bandwidth * efficiency, node.pcie_latency);
      if (node.nvswitch)
        topology.connect(gpu_v.back(), nvswitch, name + "-nvlink", scenario.gpu.nvlink_bandwidth, node.nvlink_latency);
      if (fabric_used && node.nic_bandwidth > 0)
        topology.connect(gpu_v.back(), fabric, name + "-nic", node.nic_bandwidth * efficiency, node.nic_latency);
    }
    if (!node.nvswitch && node.gpus > 1) {
      // Point-to-point NVLink mesh: a GPU's links share its total NVLink bandwidth.
      const double per_link = scenario.gpu.nvlink_bandwidth / (node.gpus - 1);
      for (int a = 0; a < node.gpus; ++a)
        for (int b = a + 1; b < node.gpus; ++b)
          topology.connect(gpu_v[a], gpu_v[b], prefix + "-nvlink-" + std::to_string(a) + "-" + std::to_string(b),
                           per_link, node.nvlink_latency);
    }
  }
  for (const auto& tier : scenario.kv.lower) {
    if (tier.kind != "remote") continue;
    for (int k = 0; k < tier.servers; ++k) {
      auto* server = zone->create_host("remote" + std::to_string(k), kCpuSpeed);
      platform.memory_servers.push_back(server);
      topology.connect(topology.add_vertex(server), fabric, "remote" + std::to_string(k) + "-nic",
                       tier.server_bandwidth * efficiency, tier.server_latency);
    }
  }
  platform.routes = topology.add_routes();
  platform.all_links = topology.all_links();
  platform.links = topology.links();
  zone->seal();
  return platform;
}

}  // namespace kvsim::engine
