// demotion: the tier keeps what the tier above evicts (a victim cache below HBM, as in
// vLLM's CPU offloading and LMCache's local tiers); finished prompts are not written through.
#include "models/kvcache/admission/admission.hpp"

namespace kvsim::kvcache::admission {

namespace {
class Demotion final : public AdmissionRule {
 public:
  bool takes(Offer offer) const override { return offer == Offer::demotion; }
  bool admit(const EvictedBlock&, Offer, double) override { return true; }
};
}  // namespace

std::unique_ptr<AdmissionRule> make_demotion(std::uint64_t) { return std::make_unique<Demotion>(); }

}  // namespace kvsim::kvcache::admission
