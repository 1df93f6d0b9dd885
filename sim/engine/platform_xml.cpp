#include "sim/engine/platform_xml.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>

#include "sim/util/error.hpp"

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

struct Role {
  std::string kind;  // "gpu", "cpu", "ssd", "memory" or "none"
  long node = -1;    // gpu, cpu, ssd
  long index = -1;   // gpu: GPU index in its node; memory: order among the servers
};

// A non-negative integer property ("" when absent); fail names it otherwise.
std::optional<long> integer_property(const sg4::Host* host, const char* key, const std::string& file) {
  const char* text = host->get_property(key);
  if (!text) return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 0)
    throw InputError(file, 0, host->get_name(), std::string(key) + " = \"" + text + "\" is not a non-negative integer");
  return value;
}

Role role_of(const sg4::Host* host, const std::string& file) {
  const std::string& name = host->get_name();
  Role role;
  if (const char* kind = host->get_property("kvsim.role")) {
    role.kind = kind;
    if (role.kind != "gpu" && role.kind != "cpu" && role.kind != "ssd" && role.kind != "memory" && role.kind != "none")
      throw InputError(file, 0, name, "kvsim.role = \"" + role.kind + "\"; expected gpu, cpu, ssd, memory or none");
    if (role.kind == "none" || role.kind == "memory") {
      role.index = integer_property(host, "kvsim.index", file).value_or(0);
      return role;
    }
    const auto node = integer_property(host, "kvsim.node", file);
    if (!node) throw InputError(file, 0, name, "kvsim.role = \"" + role.kind + "\" needs a kvsim.node property");
    role.node = *node;
    if (role.kind == "gpu") {
      const auto index = integer_property(host, "kvsim.gpu_index", file);
      if (!index) throw InputError(file, 0, name, "kvsim.role = \"gpu\" needs a kvsim.gpu_index property");
      role.index = *index;
    }
    return role;
  }
  static const std::regex gpu(R"(node(\d+)-gpu(\d+))"), side(R"(node(\d+)-(cpu|ssd))"), memory(R"(remote(\d+))");
  std::smatch m;
  if (std::regex_match(name, m, gpu)) return {"gpu", std::stol(m[1]), std::stol(m[2])};
  if (std::regex_match(name, m, side)) return {m[2].str(), std::stol(m[1]), -1};
  if (std::regex_match(name, m, memory)) return {"memory", -1, std::stol(m[1])};
  throw InputError(file, 0, name,
                   "the host matches no kvsim mapping: give it a kvsim.role property (gpu, cpu, ssd, memory, or none to "
                   "leave it unused) or a name node<N>-gpu<G>, node<N>-cpu, node<N>-ssd or remote<K>");
}

// Throws unless src has a route of at least one link to dst.
void check_route(const sg4::Host* src, const sg4::Host* dst, const std::string& file) {
  std::vector<sg4::Link*> links;
  double latency = 0;
  try {
    src->route_to(dst, links, &latency);
  } catch (const std::exception& e) {
    throw InputError(file, 0, src->get_name(), "no route to " + dst->get_name() + " (" + e.what() + ")");
  }
  if (links.empty()) throw InputError(file, 0, src->get_name(), "no route to " + dst->get_name());
}

}  // namespace

Platform load_platform_xml(const config::Scenario& scenario) {
  const auto& cluster = scenario.cluster;
  const std::string& file = cluster.platform_xml;
  auto* engine = sg4::Engine::get_instance();
  try {
    engine->load_platform(file);
  } catch (const std::exception& e) {
    throw InputError(file, 0, "platform_xml", std::string("SimGrid cannot load the platform: ") + e.what());
  }

  Platform platform;
  const auto nodes = std::size_t(cluster.nodes());
  platform.cpus.assign(nodes, nullptr);
  platform.gpus.resize(nodes);
  std::vector<sg4::Host*> ssds(nodes, nullptr);
  for (std::size_t n = 0; n < nodes; ++n) platform.gpus[n].assign(std::size_t(cluster.group_of(int(n)).node.gpus), nullptr);
  std::map<long, sg4::Host*> memory;
  for (auto* host : engine->get_all_hosts()) {
    const Role role = role_of(host, file);
    const std::string& name = host->get_name();
    if (role.kind == "none") continue;
    if (role.kind == "memory") {
      if (!memory.emplace(role.index, host).second)
        throw InputError(file, 0, name, "a second memory server of index " + std::to_string(role.index));
      continue;
    }
    if (role.node >= long(nodes))
      throw InputError(file, 0, name, "node " + std::to_string(role.node) + ", but the cluster card (" + cluster.source +
                                          ") has " + std::to_string(nodes) + " nodes, 0.." + std::to_string(nodes - 1));
    const auto n = std::size_t(role.node);
    sg4::Host** slot = nullptr;
    if (role.kind == "gpu") {
      auto& gpus = platform.gpus[n];
      if (role.index >= long(gpus.size()))
        throw InputError(file, 0, name, "GPU index " + std::to_string(role.index) + ", but node " + std::to_string(n) +
                                            " (" + cluster.group_of(int(n)).node.name + ") has " +
                                            std::to_string(gpus.size()) + " GPUs, 0.." + std::to_string(gpus.size() - 1));
      slot = &gpus[std::size_t(role.index)];
    } else {
      slot = role.kind == "cpu" ? &platform.cpus[n] : &ssds[n];
    }
    if (*slot)
      throw InputError(file, 0, name, "node " + std::to_string(n) + " already has this " + role.kind + " (" +
                                          (*slot)->get_name() + ")");
    *slot = host;
  }

  for (std::size_t n = 0; n < nodes; ++n) {
    const std::string node = "node " + std::to_string(n);
    if (!platform.cpus[n]) throw InputError(file, 0, "platform_xml", node + " has no CPU host (kvsim.role = \"cpu\" or node" + std::to_string(n) + "-cpu)");
    for (std::size_t g = 0; g < platform.gpus[n].size(); ++g) {
      auto* gpu = platform.gpus[n][g];
      if (!gpu)
        throw InputError(file, 0, "platform_xml", node + " has no GPU " + std::to_string(g) + " (its node card has " +
                                                      std::to_string(platform.gpus[n].size()) + " GPUs, numbered 0..)");
      check_route(platform.cpus[n], gpu, file);
      check_route(gpu, platform.cpus[n], file);
    }
  }
  for (const auto& tier : scenario.kv.lower) {
    if (tier.kind == "ssd") {
      for (std::size_t n = 0; n < nodes; ++n)
        if (!ssds[n])
          throw InputError(file, 0, "platform_xml", "node " + std::to_string(n) + " has no SSD host, which the ssd tier needs");
      platform.ssds = ssds;
    }
    if (tier.kind == "remote") {
      if (long(memory.size()) < tier.servers)
        throw InputError(file, 0, "platform_xml", "the remote tier needs " + std::to_string(tier.servers) +
                                                      " memory servers; the file has " + std::to_string(memory.size()));
      for (const auto& [index, host] : memory)
        if (long(platform.memory_servers.size()) < tier.servers) platform.memory_servers.push_back(host);
    }
  }
  for (auto* link : engine->get_all_links())
    if (link->get_name() != "__loopback__") platform.all_links.push_back(link);  // SimGrid's own, not the file's
  platform.links = platform.all_links.size();
  return platform;
}

}  // namespace kvsim::engine
