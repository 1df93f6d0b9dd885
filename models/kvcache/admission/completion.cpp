// completion: write-through of every finished request's prompt blocks (Mooncake's store
// of computed prefixes); demotions from the tier above are not taken.
#include "models/kvcache/admission/admission.hpp"

namespace kvsim::kvcache::admission {

namespace {
class Completion final : public AdmissionRule {
 public:
  bool takes(Offer offer) const override { return offer == Offer::write_through; }
  bool admit(const EvictedBlock&, Offer, double) override { return true; }
};
}  // namespace

std::unique_ptr<AdmissionRule> make_completion(std::uint64_t) { return std::make_unique<Completion>(); }

}  // namespace kvsim::kvcache::admission
