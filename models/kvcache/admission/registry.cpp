// The admission rule registry: a rule is one file in this folder plus one line here.
#include "models/kvcache/admission/admission.hpp"

namespace kvsim::kvcache::admission {

std::unique_ptr<AdmissionRule> make_demotion(std::uint64_t);
std::unique_ptr<AdmissionRule> make_completion(std::uint64_t);
std::unique_ptr<AdmissionRule> make_never(std::uint64_t);
std::unique_ptr<AdmissionRule> make_second_touch(std::uint64_t);

const Registry<AdmissionInfo>& admission_rules() {
  static const Registry<AdmissionInfo> registry{
      "admission rule",
      {
          {"demotion", "blocks evicted from the tier above", make_demotion},
          {"completion", "every finished request's prompt blocks (write-through)", make_completion},
          {"never", "nothing (the tier is present but unused)", make_never},
          {"second_touch", "blocks evicted from the tier above, on their second eviction (frequency-based)",
           make_second_touch},
      }};
  return registry;
}

std::unique_ptr<AdmissionRule> make_admission(const std::string& name, std::uint64_t capacity_blocks) {
  return admission_rules().at(name, "scenario", "admission").make(capacity_blocks);
}

}  // namespace kvsim::kvcache::admission
