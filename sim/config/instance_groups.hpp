// [[instances]] groups: a scenario may list several groups of serving instances instead of
// one [instances] table, each with its own count, tp, role and batching knobs
// (max_num_seqs, max_num_batched_tokens, chunked_prefill, kv_blocks, ...; every key of
// [instances]) plus `name`, `role`, `model` and the placement selectors `node_group` and
// `gpu`. All groups sit behind the one router.
//
// Heterogeneous runs. A group serves its own `model` (a model card name or path; default
// the scenario's [model], with its overrides) on one GPU kind:
//   - `node_group = "NAME"` restricts it to the nodes of that node group of the cluster card,
//     `gpu = "CARD"` to the nodes whose GPU card is named CARD (both may be given);
//   - its GPU kind is the GPU of the first allowed node (in node order) that still has tp
//     free GPUs once the groups before it are placed;
//   - its instances fill, node by node, the allowed nodes of that kind only: each instance
//     takes the next tp free GPUs of the first such node with tp free GPUs (never across
//     nodes; place_instances, sim/config/cluster_card.hpp).
// Its KV cache (HBM, weights, activation reserve), step-time model (calibration of its GPU
// card) and energy figures come from its model and GPU cards. Every group uses the same
// block_size (the workload's block hashes are chained at one size).
//
// Roles: "mixed" (the default) serves requests whole. "prefill" and "decode" groups
// disaggregate them (sim/engine/kv_handoff.hpp): [routing] places arrivals on prefill and
// mixed instances, and [routing.decode] (policy + params, any router; least_loaded when
// absent) picks the decode instance when a prefill is done. A prefill group without a
// decode group, or the reverse, is an error; mixed groups may run beside them (requests
// routed to a mixed instance are not disaggregated). [routing.decode] without prefill and
// decode groups is an error.
//
// Each group is validated by the same code as a single [instances] table (the scenario is
// parsed once per group with that group as its [instances], and with its GPU kind as the
// platform's), so every rule and error of [instances] holds per group; errors point at the
// group's own lines and name the group.
#pragma once

#include <functional>

#include "sim/config/scenario.hpp"
#include "sim/results/records.hpp"

namespace kvsim::config {

// Chooses, once the cluster is read, which node group's node and GPU cards a parse sizes
// the instances for (index into cluster.groups).
using NodeKindChooser = std::function<int(const ClusterSpec& cluster)>;

// parse(doc, choose) reads one scenario document, its instances on the cards of the node
// group choose picks (null: node 0's). When doc's `instances` is an array of tables, parses
// doc once per group (each group moved in as its [instances]; doc is consumed) and combines
// the results; otherwise returns parse(doc, nullptr).
Scenario read_with_instance_groups(toml::table& doc,
                                   const std::function<Scenario(const toml::table&, const NodeKindChooser&)>& parse);

// The identity columns of the /groups summary rows (name, role, model, gpu, tp, instances),
// one per group (a single [instances] table is one group named "instances"), and the group
// of each instance.
void summary_groups(const Scenario& scenario, std::vector<results::GroupRecord>& rows,
                    std::vector<std::int32_t>& instance_group);

}  // namespace kvsim::config
