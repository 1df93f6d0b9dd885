// What a scenario says about its workload, as a plain copyable value: the parameters of a
// generator or a trace replay, bound into a function that opens a fresh Source on them. The
// scenario keeps the spec (so it can be copied, varied and run again), and each simulation
// opens its own source; nothing live is shared between copies.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "workloads/request.hpp"
#include "workloads/vector_source.hpp"

namespace kvsim::workload {

struct WorkloadSpec {
  std::string description;  // "generator chat", "trace FILE", "requests (12)"
  // Opens a fresh source from the bound parameters; may throw InputError (a trace that is
  // gone, a malformed first line).
  std::function<std::unique_ptr<Source>()> open;
  // Replay sessions closed-loop: a follow-up turn is released its think time after its
  // parent completes (Request::think_time, or the trace's gap between the two arrivals when
  // unknown) instead of at its own arrival time.
  bool closed_loop = false;

  explicit operator bool() const { return static_cast<bool>(open); }

  // A fixed list of requests (tests, tools), in arrival order.
  static WorkloadSpec of_requests(std::vector<Request> requests, std::vector<std::string> categories = {"default"}) {
    WorkloadSpec spec;
    spec.description = "requests (" + std::to_string(requests.size()) + ")";
    spec.open = [requests = std::move(requests), categories = std::move(categories)] {
      return std::unique_ptr<Source>(std::make_unique<VectorSource>(requests, categories));
    };
    return spec;
  }
};

}  // namespace kvsim::workload
