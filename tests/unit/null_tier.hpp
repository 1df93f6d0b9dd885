// A lower KV tier for the serving-engine unit tests: it holds nothing, never loads and
// ignores what it is told. Each test's fake derives from it and overrides only what it
// sets up or records.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/kvcache/backend.hpp"

namespace kvsim::test {

class NullTier : public kvcache::KvBackend {
 public:
  std::vector<kvcache::TierRun> match(std::span<const workload::BlockId>, std::uint32_t, std::uint32_t) override {
    return {};
  }
  bool should_load(const std::vector<kvcache::TierRun>&, double) override { return false; }
  void note_admission(const std::vector<kvcache::TierRun>&, std::uint32_t, bool) override {}
  void start_load(std::uint64_t, std::uint16_t, std::span<const workload::BlockId>,
                  const std::vector<kvcache::TierRun>&) override {}
  void evicted(std::span<const kvcache::EvictedBlock>) override {}
  void completed(std::span<const workload::BlockId>, std::uint16_t) override {}
};

}  // namespace kvsim::test
