// [[instances]] groups: a scenario may list several groups of serving instances instead of
// one [instances] table, each with its own count, tp, role and batching knobs
// (max_num_seqs, max_num_batched_tokens, chunked_prefill, kv_blocks, ...; every key of
// [instances]) plus `name` and `role`. All groups serve the scenario's [model] (a `model`
// key naming another card is refused for now) behind the one router.
//
// Roles: "mixed" (the default) serves requests whole. "prefill" and "decode" groups
// disaggregate them (sim/engine/kv_handoff.hpp): [routing] places arrivals on prefill and
// mixed instances, and [routing.decode] (policy + params, any router; least_loaded when
// absent) picks the decode instance when a prefill is done. A prefill group without a
// decode group, or the reverse, is an error; mixed groups may run beside them (requests
// routed to a mixed instance are not disaggregated). [routing.decode] without prefill and
// decode groups is an error.
//
// Placement (documented rule): groups in the order written, each instance on the next tp
// free GPUs of the first node (in node order) with tp free GPUs — node by node, never
// across nodes (place_instances, sim/config/cluster_card.hpp).
//
// Each group is validated by the same code as a single [instances] table (the scenario is
// parsed once per group with that group as its [instances]), so every rule and error of
// [instances] holds per group; errors point at the group's own lines.
#pragma once

#include <functional>

#include "sim/config/scenario.hpp"

namespace kvsim::config {

// parse(doc) reads one scenario document. When doc's `instances` is an array of tables,
// parses doc once per group (each group moved in as its [instances]; doc is consumed) and
// combines the results; otherwise returns parse(doc).
Scenario read_with_instance_groups(toml::table& doc, const std::function<Scenario(const toml::table&)>& parse);

}  // namespace kvsim::config
