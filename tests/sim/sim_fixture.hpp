// Helpers for tests that run the whole simulator on a tiny scenario with hand-made requests.
#pragma once

#include <string>
#include <vector>

#include "models/compute/perf_model.hpp"
#include "sim/config/scenario.hpp"
#include "sim/engine/simulation.hpp"
#include "workloads/vector_source.hpp"

namespace kvsim::test {

// One DGX H100 node serving Llama-3.1-8B with one instance; overrides as for --set.
inline config::Scenario tiny_scenario(std::vector<std::string> overrides = {}) {
  config::LoadOptions options;
  options.overrides = std::move(overrides);
  options.config_text = R"(
[platform]
node = "dgx-h100"
[model]
card = "llama-3.1-8b"
[instances]
count = 1
tp = 1
block_size = 16
[workload]
generator = "chat"
num_requests = 1
[output]
path = ""
)";
  return config::load_scenario(options);
}

// A request whose blocks are chained from content ids (one id per 16-token block).
inline workload::Request make_request(std::uint64_t id, double arrival, std::uint32_t input, std::uint32_t output,
                                      const std::vector<std::uint64_t>& block_contents) {
  workload::Request r;
  r.id = id;
  r.session = id;
  r.arrival = arrival;
  r.input_tokens = input;
  r.output_tokens = output;
  workload::BlockId prefix = 0;
  for (auto content : block_contents) r.blocks.push_back(prefix = workload::chain_block(prefix, content));
  return r;
}

inline engine::RunOutput run_with(config::Scenario& scenario, std::vector<workload::Request> requests) {
  scenario.workload = std::make_unique<workload::VectorSource>(std::move(requests));
  return engine::simulate(scenario, {});
}

// Step time of a batch given as (prior context, chunk, samples) triples.
struct SeqShape {
  std::uint64_t prior, chunk;
  bool samples;
};
inline double step_time(const config::Scenario& s, std::initializer_list<SeqShape> seqs) {
  auto perf = compute::make_step_time_model(s.model, s.gpu, s.tp, s.compute);
  compute::BatchShape shape;
  for (const auto& q : seqs) shape.add(q.prior, q.chunk, q.samples);
  return perf->step_time(shape);
}

}  // namespace kvsim::test
