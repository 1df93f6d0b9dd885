// A scenario: everything one run needs, parsed and validated once from TOML into typed
// values (SI units), with the resolved config (defaults filled in) kept as TOML text.
#pragma once

#include "sim/util/params.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "models/kvcache/block_manager.hpp"
#include "models/scheduling/serving_engine.hpp"
#include "platforms/topology/fabric.hpp"
#include "sim/config/reader.hpp"
#include "sim/results/energy.hpp"
#include "sim/results/slo.hpp"
#include "workloads/request.hpp"
#include "workloads/workload_spec.hpp"

namespace kvsim::config {

// Node card (platforms/nodes/*.toml) after overrides.
struct NodeSpec {
  std::string name;
  int gpus = 8;                     // GPUs per node
  bool nvswitch = true;             // GPUs reach each other through an NVSwitch (else direct links)
  double nvlink_latency = 1e-6;     // s
  double pcie_latency = 2e-6;       // s
  double host_dram = 0;             // B
  double host_dram_bandwidth = 0;   // B/s
  double nic_bandwidth = 0;         // B/s per GPU
  double nic_latency = 5e-6;        // s
};

// One KV tier below HBM ([kvcache.dram], [kvcache.ssd], [kvcache.remote]).
struct TierSpec {
  std::string kind;                // "dram", "ssd" or "remote" (fixed order, nearest first)
  double capacity = 0;             // B per tier instance; 0 = the tier is absent
  std::string scope;               // "node", "instance" (dram only) or "cluster" (remote)
  std::string admission;           // "demotion", "completion" or "never"
  bool exclusive = false;          // a block loaded into HBM leaves this tier
  kvcache::EvictionChoice eviction;  // policy, its parameters, category names
  double read_bandwidth = 0;       // B/s, ssd
  double write_bandwidth = 0;      // B/s, ssd
  int servers = 0;                 // remote memory servers
  double server_bandwidth = 0;     // B/s, NIC of each remote server
  double server_latency = 0;       // s
};

struct KvTiersSpec {
  std::vector<TierSpec> lower;        // present tiers, nearest first
  std::string load_vs_recompute = "auto";  // "auto", "load" or "recompute"
  double transfer_efficiency = 0.8;   // achieved fraction of nominal PCIe/NIC bandwidth
  double sample_interval = 10.0;      // s between tier occupancy samples
  bool has(const std::string& kind) const {
    for (const auto& t : lower)
      if (t.kind == kind) return true;
    return false;
  }
};

// A group of identical nodes of the cluster (a cluster card's [[node_groups]], or the
// platform.nodes nodes of a scenario without a card).
struct NodeGroupSpec {
  std::string name;
  int count = 1;
  NodeSpec node;
  compute::GpuCard gpu;
};

// The cluster: node groups, and the fabric joining them (sim/config/cluster_card.hpp).
struct ClusterSpec {
  std::string name;                 // cluster card name ("" without a card)
  std::string source;               // card path, for errors
  std::vector<NodeGroupSpec> groups;
  std::vector<int> node_group;      // [node] -> index into groups
  topology::Fabric fabric;
  bool nics = false;                // NICs and fabric are modelled (a card, several nodes or a remote pool)
  // A SimGrid XML platform replacing the network built from the card (its platform_xml key,
  // an absolute path; "" = none): hosts map to GPUs, CPUs, SSDs and memory servers by the
  // rule of sim/engine/platform_xml.hpp, the node groups still give the hardware figures.
  std::string platform_xml;
  int nodes() const { return int(node_group.size()); }
  const NodeGroupSpec& group_of(int node) const { return groups[std::size_t(node_group[std::size_t(node)])]; }
  long total_gpus() const {
    long n = 0;
    for (const auto& g : groups) n += long(g.count) * g.node.gpus;
    return n;
  }
};

// Where one serving instance runs: tp consecutive GPUs of one node.
struct InstancePlacement {
  int node = 0;
  int first_gpu = 0;
};

// One [[instances]] group: count instances of one TP degree and role with their batching
// knobs (sim/config/instance_groups.hpp). A scenario with a single [instances] table has no
// groups: its instances are the one mixed group described by the fields of Scenario.
struct InstanceGroupSpec {
  std::string name;
  std::string role = "mixed";  // "mixed", "prefill" or "decode" (P/D disaggregation, sim/engine/kv_handoff.hpp)
  int count = 1;
  int tp = 1;
  double hbm_utilization = 0.9;
  double activation_reserve = 0;  // B per GPU
  scheduling::EngineParams engine;  // num_blocks sized for this group's model on its GPU
  // Heterogeneous runs: the group's model (its `model` key, default the scenario's), the
  // GPU card of the nodes it is placed on, the step-time model settings calibrated for that
  // GPU, and the node groups it may be placed on (its `node_group` / `gpu` selectors).
  compute::ModelCard model;
  compute::GpuCard gpu;
  compute::ComputeSpec compute;
  std::string node_group;    // cluster node group name ("" = any)
  std::string gpu_selector;  // GPU card name ("" = any)
};

// A scenario: a plain, copyable value built once by load_scenario and validated there.
struct Scenario {
  std::string source;    // config path, or "<default scenario>"
  std::string base_dir;  // relative paths in the config are resolved against this
  std::string name;
  std::uint64_t seed = 0;
  double time_limit = 0;  // s of simulated time; +inf when unlimited

  compute::GpuCard gpu;
  NodeSpec node;
  int nodes = 1;
  // Every node with its card, and the fabric; node and gpu above are node 0's (the only kind
  // without a cluster card), nodes is the total.
  ClusterSpec cluster;
  // [instance] -> node and GPUs, filled node by node (place_instances, sim/config/cluster_card.hpp).
  std::vector<InstancePlacement> placement;
  // [[instances]] groups (empty with a single [instances] table) and [instance] -> group.
  std::vector<InstanceGroupSpec> groups;
  std::vector<int> instance_group;

  compute::ModelCard model;
  compute::RooflineParams compute;

  int instances = 1;
  int tp = 1;
  double hbm_utilization = 0.9;
  double activation_reserve = 0;  // B per GPU
  scheduling::EngineParams engine;
  std::string router;
  ParamValues router_params;  // [routing.params], resolved against the router's specs
  // [routing.decode]: picks the decode instance after a prefill (P/D disaggregation);
  // "" when the section is absent (least_loaded with P/D groups, sim/config/instance_groups.hpp).
  std::string decode_router;
  ParamValues decode_router_params;
  // Whether prefill and decode run on separate instances (some group has role "prefill").
  bool disaggregated() const {
    for (const auto& g : groups)
      if (g.role == "prefill") return true;
    return false;
  }
  KvTiersSpec kv;
  // The workload as parameters (generator or trace, closed loop or not); each simulation
  // opens its own source from it, so a Scenario is a plain value that can be copied and
  // varied (sweeps) and run again.
  workload::WorkloadSpec workload;
  std::string output_path;  // results file ("" = don't write)

  // Steady state and service levels (README "SLOs and steady state").
  double warmup = 0;    // s: requests arriving in [0, warmup) are left out of the summary
  double cooldown = 0;  // s: so are those arriving in (last arrival - cooldown, last arrival]
  std::vector<results::SloBound> slo;  // [slo] bounds, in key order
  results::CostPrices cost;            // [cost]

  std::string resolved_toml;  // the resolved config as TOML text
};

struct LoadOptions {
  std::string config_path;             // empty: the embedded default scenario (or config_text)
  std::optional<std::string> config_text;  // TOML given in memory (tests, tools), source "<text>"
  std::vector<std::string> overrides;  // "dotted.key=value"
  std::optional<std::uint64_t> seed;
  std::optional<std::string> output;
};

// Throws InputError on any invalid input.
Scenario load_scenario(const LoadOptions& options);

// Documentation of every scenario parameter (for `kvsim describe scenario`).
std::vector<ParamDoc> describe_scenario();

// The embedded default scenario's TOML text.
std::string_view default_scenario_text();

}  // namespace kvsim::config
