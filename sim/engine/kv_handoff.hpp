// Prefill/decode disaggregation (Splitwise, DistServe, Mooncake, NVIDIA Dynamo, vLLM's
// disaggregated prefill): prefill instances compute prompts, decode instances generate the
// rest of the output, and each request's context KV moves from one to the other.
//
// The life of a disaggregated request:
//   1. [routing] places it on a prefill (or mixed) instance, whose engine runs with
//      EngineParams::prefill_only: the step that produces the first token ends its TTFT
//      there, and it leaves (handed_off), its blocks pinned until the KV has been read.
//   2. hand_off(): [routing.decode] picks a decode instance among the decode groups, and the
//      request joins that instance's waiting queue (ServingEngine::enqueue_prefilled).
//   3. When the decode instance's batcher admits it (at a step boundary, like any waiting
//      request: the decode worker pulls the KV when its scheduler has blocks for it, as vLLM's
//      disaggregation connector and Dynamo do), its blocks are reserved there and the
//      context's KV (prompt tokens × kv_bytes_per_token, less the full blocks the decode
//      instance already caches) starts moving: one SimGrid Comm per GPU shard through the
//      TransferService, owned by the decode instance (its driver waits on it), over the
//      modelled route (NVLink inside a node, the GPUs' NICs and the fabric across
//      nodes), sharing links with every other transfer. With tp P on the prefill side and D
//      on the decode side, each side holding 1/P or 1/D of the KV heads per GPU, one Comm
//      moves each overlap of a prefill GPU's heads with a decode GPU's: when one tp divides
//      the other, max(P, D) Comms of bytes / max(P, D), shard k going from prefill GPU
//      k·P/max to decode GPU k·D/max (equal tp: GPU i to GPU i); otherwise P + D - gcd(P, D)
//      Comms of unequal sizes (tp 2 to 3: 2/6, 1/6 from GPU 0, 1/6, 2/6 from GPU 1).
//   4. When the last Comm has arrived the sequence decodes; TPOT counts from the first token,
//      so it includes the queueing and the transfer. A decode sequence preempted later
//      recomputes its context locally (vLLM's recompute preemption on the decode worker).
// If the decode instance has no room, the request waits in its queue like an arrival.
// The two sides' prefix caches are separate: each instance has its own HBM.
//
// Why these choices. DistServe's decode instances pull a request's KV when they have memory
// for it (the prefill instance's memory serves as the queue meanwhile); vLLM's disaggregated
// serving (its NIXL connector) and Dynamo allocate the blocks in the decode worker's
// scheduler, then read the remote blocks, skipping those the decode worker's prefix cache
// already holds; the prefill side frees its blocks once they are read, so a sequence
// preempted later on the decode worker can only be recomputed there. kvsim follows that
// pull-at-admission scheme. Meanwhile the prefill instance keeps the request's blocks pinned
// (ServingEngine::release_handed_off frees them into its prefix cache when the last Comm has
// arrived), so a queue at the decode side holds prefill memory and pushes back on the
// prefill instances, as in those systems.
//
// The first token's own KV is not moved: it is computed by the first decode step (as the
// next token's input), as in vLLM, where the prefill worker's blocks hold the prompt only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/scheduling/routing/router.hpp"
#include "sim/engine/run_state.hpp"

namespace kvsim::engine {

class KvHandoff {
 public:
  // Null unless the scenario has prefill and decode groups. Narrows run.views to the
  // instances arrivals may be routed to (prefill and mixed); base is the run's router view.
  static std::unique_ptr<KvHandoff> make(RunState& run, const scheduling::routing::RouterView& base);
  KvHandoff(RunState& run, const scheduling::routing::RouterView& base);
  ~KvHandoff();

  // Arrival routing: the view for the [routing] router, and the instance of its choice.
  const scheduling::routing::RouterView& entry_view() const;
  std::size_t entry_instance(std::size_t view_index) const { return entry_[view_index]; }
  // Why a request routed to a prefill instance could never be decoded ("" when it can): a
  // decode instance the decode router might pick cannot hold it.
  std::string decode_rejection(const workload::Request& request) const;

  // The prefill instance `from` produced seq's first token (seq.handed_off).
  void hand_off(const scheduling::Sequence& seq, const Instance& from);
  // A transfer owned by instance `to` completed: true when it was part of a hand-off (on
  // the last part, the decode engine is told the KV has arrived).
  bool transfer_done(Instance& to, std::uint64_t request, double now);

  // Whether hand-offs may still reach this instance (a prefill driver still runs).
  bool more_coming(const Instance& instance) const;
  // The instance's driver has returned; the last prefill driver wakes the decode drivers.
  void driver_ended(const Instance& instance);

 private:
  class Receiver;
  class MemberView;
  struct Moving {
    int parts = 0;  // Comms still in flight
    int from = 0;   // prefill instance, whose blocks stay pinned until the last part arrives
  };
  void receive(Instance& to, std::uint64_t request, std::uint64_t tokens);

  RunState& run_;
  std::vector<std::size_t> entry_;   // [view index] -> instance (prefill and mixed)
  std::vector<std::size_t> decode_;  // [decode view index] -> instance
  std::vector<const scheduling::ServingEngine*> decode_views_;
  std::vector<bool> is_prefill_, is_decode_;  // [instance]
  int prefill_drivers_ = 0;                   // prefill drivers still running
  std::unique_ptr<MemberView> entry_view_, decode_view_;
  std::unique_ptr<scheduling::routing::Router> router_;  // [routing.decode]
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::unordered_map<std::uint64_t, int> source_;       // request -> prefill instance, until its KV moves
  std::unordered_map<std::uint64_t, Moving> moving_;    // request -> Comms in flight
};

}  // namespace kvsim::engine
