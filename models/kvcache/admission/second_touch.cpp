// second_touch: a demoted block is taken only the second time it is demoted, so blocks that
// are evicted once and never come back (one-off prompts) do not displace blocks that keep
// returning. The first demotion only records the block's identity in a FIFO history as long
// as the tier's capacity (the "doorkeeper" of frequency-based admission such as TinyLFU, and
// CacheLib's reject-first admission for flash). A block found in the history is admitted and
// leaves it. Write-throughs are not taken (use completion for them).
// Parameters: none (the history holds as many identities as the tier holds blocks).
#include "models/kvcache/admission/admission.hpp"
#include "models/kvcache/eviction/ghost_list.hpp"

namespace kvsim::kvcache::admission {

namespace {
class SecondTouch final : public AdmissionRule {
 public:
  explicit SecondTouch(std::uint64_t capacity) : capacity_(capacity) {}

  bool takes(Offer offer) const override { return offer == Offer::demotion; }
  bool admit(const EvictedBlock& block, Offer, double) override {
    if (history_.remove(block.id)) return true;
    history_.push(block.id);
    while (history_.size() > capacity_) history_.pop_oldest();
    return false;
  }

 private:
  std::uint64_t capacity_;
  eviction::GhostList history_;
};
}  // namespace

std::unique_ptr<AdmissionRule> make_second_touch(std::uint64_t capacity_blocks) {
  return std::make_unique<SecondTouch>(capacity_blocks);
}

}  // namespace kvsim::kvcache::admission
