// kvsim platform show CARD [--route A B] [--set KEY=VALUE]...: builds the SimGrid platform of a
// cluster card (through the same code as a run) and prints its hosts, its links with
// bandwidth and latency, and optionally the route SimGrid takes between two named hosts
// with its bottleneck bandwidth and total latency.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

#include "sim/cli/command.hpp"
#include "sim/config/scenario.hpp"
#include "sim/config/units.hpp"
#include "sim/engine/platform.hpp"

namespace kvsim::cli {

extern const char* const kPlatformShowHelp;
const char* const kPlatformShowHelp =
    "Usage: kvsim platform show CARD [--route A B] [--set KEY=VALUE]...\n"
    "  CARD      a cluster card (kvsim list clusters) or a path to one\n"
    "  --route   print the route from host A to host B (e.g. node0-gpu0 node3-gpu5): its links in\n"
    "            order, bottleneck bandwidth and total latency\n"
    "  --set     scenario overrides, e.g. --set kvcache.remote.capacity=1TB to place the memory servers\n"
    "Link bandwidths are as simulated: PCIe, NIC and fabric links at kvcache.transfer_efficiency\n"
    "of their nominal bandwidth.\n";

namespace {

namespace sg4 = simgrid::s4u;

std::string bandwidth_text(double bps) { return config::format_quantity(bps, config::Dimension::bandwidth); }
std::string time_text(double s) { return config::format_quantity(s, config::Dimension::time); }

}  // namespace

int platform_show_command(const CommandContext& context) {
  // --route takes two values, which Args does not do: take them out first.
  std::vector<std::string> rest;
  std::optional<std::pair<std::string, std::string>> route;
  for (std::size_t i = 0; i < context.args.size(); ++i) {
    if (context.args[i] == "--route") {
      if (i + 2 >= context.args.size()) Args("platform show", {}).fail("--route needs two host names: --route A B");
      route = std::pair{context.args[i + 1], context.args[i + 2]};
      i += 2;
    } else {
      rest.push_back(context.args[i]);
    }
  }
  Args args("platform show", rest);
  const auto overrides = args.values("--set");
  const auto positionals = args.positionals();
  if (positionals.size() != 1) args.fail("expected one cluster card (name or path)");

  config::LoadOptions options;
  options.config_text = "[platform]\ncluster = \"" + positionals[0] + "\"\n[instances]\ncount = 1\n";
  options.overrides = overrides;
  options.output = "";
  const config::Scenario scenario = config::load_scenario(options);

  // The run's network model, so that the route printed is the one a run's Comms take.
  std::vector<std::string> engine_args{"kvsim", "--log=root.thresh:warning", "--log=xbt_cfg.thresh:warning"};
  for (auto& setting : engine::network_model_arguments()) engine_args.push_back(std::move(setting));
  std::vector<char*> argv;
  for (auto& a : engine_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = int(engine_args.size());
  sg4::Engine engine(&argc, argv.data());
  const auto start = std::chrono::steady_clock::now();
  const engine::Platform platform = engine::build_platform(scenario);
  const double build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const auto& cluster = scenario.cluster;
  std::cout << "cluster " << cluster.name << " (" << cluster.source << "): " << cluster.nodes() << " nodes, "
            << cluster.total_gpus() << " GPUs, network " << cluster.fabric.kind << "\n";
  std::printf("built in %.3f s: %zu hosts, %zu links, %zu routes stored\n", build_seconds,
              engine.get_host_count(), platform.links, platform.routes);
  std::cout << "node groups:\n";
  int first = 0;
  for (const auto& g : cluster.groups) {
    std::cout << "  " << g.name << ": nodes " << first << ".." << first + g.count - 1 << ", " << g.node.gpus << " x "
              << g.gpu.name << ", NIC " << bandwidth_text(g.node.nic_bandwidth) << " per GPU\n";
    first += g.count;
  }
  if (!cluster.platform_xml.empty()) std::cout << "network from SimGrid platform " << cluster.platform_xml << "\n";
  else std::cout << "switches:\n";
  for (std::size_t s = 0; s < cluster.fabric.switches.size() && cluster.platform_xml.empty(); ++s) {
    int nodes = 0;
    for (auto n : cluster.fabric.node_switch) nodes += n == s;
    std::cout << "  " << cluster.fabric.switches[s].name << ": " << nodes << " nodes"
              << (s == cluster.fabric.memory_switch ? ", memory servers" : "") << "\n";
  }
  std::cout << "hosts:\n";
  for (std::size_t n = 0; n < platform.gpus.size(); ++n) {
    std::cout << "  " << platform.cpus[n]->get_name();
    for (auto* gpu : platform.gpus[n]) std::cout << " " << gpu->get_name();
    if (n < platform.ssds.size()) std::cout << " " << platform.ssds[n]->get_name();
    std::cout << "\n";
  }
  if (!platform.memory_servers.empty()) {
    std::cout << " ";
    for (auto* s : platform.memory_servers) std::cout << " " << s->get_name();
    std::cout << "\n";
  }
  std::cout << "links (name, bandwidth, latency):\n";
  for (auto* link : platform.all_links)
    std::cout << "  " << link->get_name() << "  " << bandwidth_text(link->get_bandwidth()) << "  "
              << time_text(link->get_latency()) << "\n";

  if (route) {
    auto* a = sg4::Host::by_name_or_null(route->first);
    auto* b = sg4::Host::by_name_or_null(route->second);
    for (const auto& [name, host] : {std::pair{route->first, a}, std::pair{route->second, b}})
      if (!host) throw InputError("--route", 0, "--route", "no host named \"" + name + "\" (see the hosts listed above)");
    std::vector<sg4::Link*> links;
    double latency = 0;
    a->route_to(b, links, &latency);
    double bottleneck = std::numeric_limits<double>::infinity();
    std::cout << "route " << route->first << " -> " << route->second << ": " << links.size() << " links\n";
    for (auto* link : links) {
      std::cout << "  " << link->get_name() << "  " << bandwidth_text(link->get_bandwidth()) << "  "
                << time_text(link->get_latency()) << "\n";
      bottleneck = std::min(bottleneck, link->get_bandwidth());
    }
    std::cout << "bottleneck " << bandwidth_text(bottleneck) << ", latency " << time_text(latency) << "\n";
  }
  return 0;
}

}  // namespace kvsim::cli
