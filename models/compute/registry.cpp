// The step-time model family: one file per variant plus one line here.
#include <stdexcept>

#include "models/compute/perf_model.hpp"

namespace kvsim::compute {


std::unique_ptr<PerfModel> make_profile(const ModelCard& model, const GpuCard& gpu, int tp, const ComputeSpec& spec);

namespace {
std::unique_ptr<PerfModel> analytical(const ModelCard& model, const GpuCard& gpu, int tp, const ComputeSpec& spec) {
  return make_analytical(model, gpu, tp, spec.params);
}
}  // namespace

const std::vector<StepTimeModelInfo>& step_time_models() {
  static const std::vector<StepTimeModelInfo> registry{
      {"analytical", "per-operator smooth rooflines with kernel floors, calibrated per GPU (analytical.cpp)", analytical},
      {"profile", "measured per-operator tables (compute.profile_tables), interpolated, summed like analytical (profile.cpp)",
       make_profile},
  };
  return registry;
}

std::vector<std::string> step_time_model_names() {
  std::vector<std::string> names;
  for (const auto& m : step_time_models()) names.emplace_back(m.name);
  return names;
}

std::unique_ptr<PerfModel> make_step_time_model(const ModelCard& model, const GpuCard& gpu, int tp,
                                                const ComputeSpec& spec) {
  for (const auto& m : step_time_models())
    if (m.name == spec.model) return m.make(model, gpu, tp, spec);
  std::string known;
  for (const auto& name : step_time_model_names()) known += (known.empty() ? "" : ", ") + name;
  throw std::invalid_argument("unknown step-time model \"" + spec.model + "\"; known: " + known);
}

}  // namespace kvsim::compute
