// The batcher registry: a batcher is one file in this folder plus one line here.
#include "models/scheduling/batching/batcher.hpp"

namespace kvsim::scheduling::batching {

std::unique_ptr<Batcher> make_vllm_v1(const Params&);
std::unique_ptr<Batcher> make_sarathi(const Params&);
std::unique_ptr<Batcher> make_priority(const Params&);

const Registry<BatcherEntry>& batchers() {
  static const Registry<BatcherEntry> registry{"batcher", {
      {"vllm_v1", "vLLM V1: running sequences first in admission order (prefill chunks or one decode token), "
                  "then waiting ones FCFS; preempts the most recently admitted; budget max_num_batched_tokens",
       {}, make_vllm_v1},
      {"sarathi", "Sarathi-Serve stall-free batching: all decodes (not held to the budget), then ongoing prefill "
                  "chunks, then new admissions, within a fixed token budget less the decodes",
       {{"token_budget", 512, "tokens", "tokens per step (the paper's chunk size), at most max_num_batched_tokens; 0 or chunked_prefill = false: max_num_batched_tokens"}},
       make_sarathi},
      {"priority", "service classes (Request priority: 0 online, larger offline): classes in order of importance, "
                   "offline preempted first and fills the leftover budget and blocks, throttled to keep online TTFT",
       {{"online_ttft_slo", 0, "s", "online TTFT target for the offline throttle; 0: no throttle"},
        {"headroom", 0.8, "", "offline work is admitted while predicted online TTFT <= headroom x online_ttft_slo"}},
       make_priority},
  }};
  return registry;
}

std::unique_ptr<Batcher> make_batcher(const std::string& name, const ParamValues& overrides) {
  const BatcherEntry& entry = batchers().at(name, "scenario", "instances.batcher");
  return entry.make(resolve_params(entry.params, overrides, "batcher \"" + name + "\"", "scenario",
                                   "instances.batcher_params"));
}

}  // namespace kvsim::scheduling::batching
