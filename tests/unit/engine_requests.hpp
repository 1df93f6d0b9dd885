// Hand-made requests for the serving-engine unit tests that drive ServingEngine directly.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "workloads/request.hpp"

namespace kvsim::test {

// n chained block identities of contents first, first + 1, ..., first + n - 1 (a prompt
// whose blocks are all distinct).
inline std::vector<workload::BlockId> chained_blocks(std::uint64_t first, std::size_t n) {
  std::vector<workload::BlockId> ids;
  workload::BlockId prefix = 0;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(prefix = workload::chain_block(prefix, first + i));
  return ids;
}

// A request arriving at 0 with the given lengths and block identities (none: nothing to
// match or publish).
inline workload::Request engine_request(std::uint64_t id, std::uint32_t input, std::uint32_t output,
                                        std::vector<workload::BlockId> ids = {}) {
  workload::Request r;
  r.id = id;
  r.input_tokens = input;
  r.output_tokens = output;
  r.blocks = std::move(ids);
  return r;
}

}  // namespace kvsim::test
