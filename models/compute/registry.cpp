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

const Registry<StepTimeModelInfo>& step_time_models() {
  static const Registry<StepTimeModelInfo> registry{"step-time model", {
      {"analytical", "per-operator smooth rooflines with kernel floors, calibrated per GPU (analytical.cpp)", analytical},
      {"profile", "measured per-operator tables (compute.profile_tables), interpolated, summed like analytical (profile.cpp)",
       make_profile},
  }};
  return registry;
}

std::vector<std::string> step_time_model_names() { return step_time_models().names(); }

std::unique_ptr<PerfModel> make_step_time_model(const ModelCard& model, const GpuCard& gpu, int tp,
                                                const ComputeSpec& spec) {
  return step_time_models().at(spec.model, "scenario", "compute.model").make(model, gpu, tp, spec);
}

}  // namespace kvsim::compute
