// Builds the SimGrid platform of a scenario: one host per GPU (speed = its peak FLOP/s) and
// one host per node for the CPU side; NVLink (through the node's NVSwitch, or point to
// point), PCIe (GPU to host) and NICs (GPU and host to the cluster fabric) as full-duplex
// links with datasheet bandwidth and latency. The topology is a Boost.Graph whose routes
// are shortest paths weighted by the time to move a 1 MiB message (latency + size /
// bandwidth), so a route prefers NVLink over PCIe + NIC; SimGrid's own zones would route
// by hop count. PCIe and NIC links carry KV transfers at kvcache.transfer_efficiency of
// their nominal bandwidth; a node's SSD is a host behind a split link to the node's CPU side
// whose two directions carry the drive's read and write bandwidth (a SimGrid link rather
// than a Disk: links are updated lazily, so transfer times do not depend on how many
// unrelated events happen meanwhile, which keeps multi-step planning exact, and a load
// streams from the drive to the GPUs in one Comm bottlenecked by the slower of drive and
// PCIe, as pipelined KV offloading engines do); a remote pool is a set of memory-server
// hosts on the cluster fabric.
#pragma once

#include <string>
#include <vector>

#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

#include "sim/config/scenario.hpp"

namespace kvsim::engine {

struct Platform {
  std::vector<std::vector<simgrid::s4u::Host*>> gpus;  // [node][gpu]
  std::vector<simgrid::s4u::Host*> cpus;               // [node]; host DRAM tiers live here
  std::vector<simgrid::s4u::Host*> ssds;               // [node], when an ssd tier exists
  std::vector<simgrid::s4u::Host*> memory_servers;     // remote pool servers
  std::vector<simgrid::s4u::Link*> all_links;          // every link, in creation order
  std::size_t links = 0;
  std::size_t routes = 0;
};

// Must be called once, after the Engine exists and before actors start.
Platform build_platform(const config::Scenario& scenario);

// The SimGrid settings of the network model every kvsim Engine uses (a run and `kvsim
// platform show`), as --cfg= command-line arguments: a Comm alone on its route takes
// sum of latencies + bytes / bottleneck bandwidth, and Comms sharing a link split it.
std::vector<std::string> network_model_arguments();

}  // namespace kvsim::engine
