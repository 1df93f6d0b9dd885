// Import of an existing SimGrid XML platform (a cluster card's platform_xml key) instead of
// the network kvsim builds from the card. SimGrid loads the file (hosts, links, zones,
// routes, exactly as written: no transfer_efficiency scaling); kvsim then finds its
// serving hardware among the hosts. The card's [[node_groups]] still say what each node is
// (node and GPU cards: HBM, FLOP/s, TDP for KV sizing, step times and energy) and how many
// nodes there are; the file says how they are wired.
//
// Mapping rule, per host:
//   1. by properties: <prop id="kvsim.role" value="gpu|cpu|ssd|memory|none"/>, with
//      kvsim.node = N (gpu, cpu, ssd) and kvsim.gpu_index = G (gpu); memory servers are
//      ordered by kvsim.index = K;
//   2. else by name, the names kvsim's own builder gives: node<N>-gpu<G>, node<N>-cpu,
//      node<N>-ssd, remote<K>.
// A host matching neither (routers are not hosts) is an error; kvsim.role = "none" leaves
// a host unused on purpose.
//
// Checks (errors name the file and the host): nodes are 0..n-1 for the card's n nodes;
// node N has one CPU and GPUs 0..g-1 for its node card's g GPUs, each once; an SSD per
// node when the scenario has an SSD tier; at least kvcache.remote.servers memory servers
// (the first ones by index are used) when it has a remote pool; and every GPU has a route
// to and from its node's CPU.
#pragma once

#include "sim/config/scenario.hpp"
#include "sim/engine/platform.hpp"

namespace kvsim::engine {

// Loads scenario.cluster.platform_xml into the current Engine and maps its hosts. Must be
// called once, after the Engine exists and before actors start. Throws InputError.
Platform load_platform_xml(const config::Scenario& scenario);

}  // namespace kvsim::engine
