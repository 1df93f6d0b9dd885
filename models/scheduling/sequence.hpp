// One request's state inside an instance: how far its prefill and decode have gone, what
// the prefix cache gave it, and its KV block table. Shared by the serving engine (which
// moves it through queues and blocks) and the batchers (which choose what runs).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/kvcache/block_manager.hpp"
#include "workloads/request.hpp"

namespace kvsim::scheduling {

struct Sequence {
  workload::Request request;
  std::uint32_t prefill_target = 0;  // tokens to compute before the next sample (input + generated)
  std::uint32_t computed = 0;        // tokens whose KV is computed
  std::uint32_t generated = 0;       // output tokens produced so far
  std::uint32_t cached_tokens = 0;   // prompt tokens found in the prefix cache at last admission
  std::uint32_t published = 0;       // prompt blocks made discoverable in the prefix index
  std::uint32_t preemptions = 0;
  // Prefix blocks found in HBM, and in each lower tier (dram, ssd, remote), at the last
  // admission; loading is true while those lower-tier blocks are on their way to HBM.
  std::uint32_t hbm_hit_blocks = 0;
  std::array<std::uint32_t, 3> lower_hit_blocks{};
  bool loading = false;
  bool in_step = false;              // scheduled in the step being planned
  bool is_running = false;           // in the running list (admitted and not preempted since)
  // P/D disaggregation: handed_off when a prefill-only instance has produced the first token
  // (the decode continues elsewhere); remote_kv while the context KV, computed by a prefill
  // instance, has not arrived at this decode instance.
  bool handed_off = false;
  bool remote_kv = false;
  std::uint32_t loading_blocks = 0;  // blocks of the load in flight
  double load_start = -1;            // s
  double load_wait = 0;              // s spent waiting for loads, over all admissions
  double first_token = -1;           // s
  double finish = -1;                // s
  std::vector<kvcache::BlockIndex> table;  // block table, in token order

  bool prefilling() const { return computed < prefill_target; }
  // Tokens the sequence would compute in its next step with no budget limit: the rest of
  // its prefill, or one decode token.
  std::uint32_t tokens_wanted() const { return prefilling() ? prefill_target - computed : 1; }
};

}  // namespace kvsim::scheduling
