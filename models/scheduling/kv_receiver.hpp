// Prefill/decode disaggregation, seen from a decode instance's engine: the context KV of a
// request prefilled elsewhere has to be pulled into this instance's HBM before it decodes.
// The engine reserves the blocks at admission and asks its receiver to move the tokens; the
// simulator (sim/engine/kv_handoff) moves them over the platform and calls the engine's
// load_done() when they have arrived. Plain interface: the engine never sees SimGrid.
#pragma once

#include <cstdint>

namespace kvsim::scheduling {

class KvReceiver {
 public:
  virtual ~KvReceiver() = default;
  // Starts moving the KV of `tokens` context tokens of request_id into this instance (the
  // blocks are reserved); ServingEngine::load_done(request_id, t) follows on arrival.
  virtual void receive(std::uint64_t request_id, std::uint64_t tokens) = 0;
};

}  // namespace kvsim::scheduling
