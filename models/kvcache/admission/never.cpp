// never: the tier takes nothing (it exists, but is switched off: a baseline for what a tier
// is worth with the platform and the workload otherwise unchanged).
#include "models/kvcache/admission/admission.hpp"

namespace kvsim::kvcache::admission {

namespace {
class Never final : public AdmissionRule {
 public:
  bool takes(Offer) const override { return false; }
  bool admit(const EvictedBlock&, Offer, double) override { return false; }
};
}  // namespace

std::unique_ptr<AdmissionRule> make_never(std::uint64_t) { return std::make_unique<Never>(); }

}  // namespace kvsim::kvcache::admission
