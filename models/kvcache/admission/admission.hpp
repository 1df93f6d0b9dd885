// Admission rules of the KV tiers below HBM: which blocks offered to a tier it takes. A
// tier is offered two kinds of blocks: demotions (cached blocks the tier above evicted)
// and write-throughs (a finished request's prompt blocks). A rule sees each offered block
// and the time, and answers yes or no; it never sees SimGrid. One file per rule, one line in
// registry.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/kvcache/block_manager.hpp"
#include "sim/util/registry.hpp"

namespace kvsim::kvcache::admission {

enum class Offer { demotion, write_through };

class AdmissionRule {
 public:
  virtual ~AdmissionRule() = default;
  // Whether the tier considers offers of this kind at all (a tier that does not is left
  // untouched by them: its resident blocks are not even refreshed).
  virtual bool takes(Offer offer) const = 0;
  // Whether the tier takes block (not resident there) offered as `offer` (which it takes)
  // at time now.
  virtual bool admit(const EvictedBlock& block, Offer offer, double now) = 0;
};

struct AdmissionInfo {
  std::string name;
  std::string help;
  // capacity_blocks: the tier's capacity (rules that remember blocks bound their memory by it).
  std::unique_ptr<AdmissionRule> (*make)(std::uint64_t capacity_blocks);
};

const Registry<AdmissionInfo>& admission_rules();
std::unique_ptr<AdmissionRule> make_admission(const std::string& name, std::uint64_t capacity_blocks);

}  // namespace kvsim::kvcache::admission
