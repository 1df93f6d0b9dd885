// Helpers for tests that run the whole simulator on a tiny scenario with hand-made requests.
#pragma once

#include <cstdio>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

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
// n distinct block contents: first, first + 1, ..., first + n - 1.
inline std::vector<std::uint64_t> contents(std::uint64_t first, std::size_t n) {
  std::vector<std::uint64_t> c(n);
  std::iota(c.begin(), c.end(), first);
  return c;
}

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

namespace detail {

// RunOutput through a pipe: its tables are vectors of trivially copyable records.
template <class T>
void put(std::string& out, const std::vector<T>& rows) {
  static_assert(std::is_trivially_copyable_v<T>);
  const std::uint64_t n = rows.size();
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  if (n > 0) out.append(reinterpret_cast<const char*>(rows.data()), n * sizeof(T));
}
template <class T>
void put(std::string& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
template <class T>
void get(const std::string& in, std::size_t& at, std::vector<T>& rows) {
  std::uint64_t n = 0;
  std::memcpy(&n, in.data() + at, sizeof n);
  at += sizeof n;
  rows.resize(n);
  if (n > 0) std::memcpy(rows.data(), in.data() + at, n * sizeof(T));  // data() may be null when empty
  at += n * sizeof(T);
}
template <class T>
void get(const std::string& in, std::size_t& at, T& value) {
  std::memcpy(&value, in.data() + at, sizeof value);
  at += sizeof value;
}

}  // namespace detail

// Runs the simulation in a child process and returns its output: SimGrid's clock cannot be
// reset inside a process (a second simulate() refuses to run), so each test's simulation
// gets a fresh process whether the test binary runs under CTest or directly. An exception
// in the child is rethrown here as std::runtime_error with its message.
inline engine::RunOutput simulate_isolated(config::Scenario& scenario) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);  // nothing buffered before the fork may be written twice
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string bytes;
    char status = 0;
    try {
      const auto out = engine::simulate(scenario, {});
      detail::put(bytes, status);
      detail::put(bytes, out.requests);
      detail::put(bytes, out.tiers);
      detail::put(bytes, out.links);
      detail::put(bytes, out.tier_samples);
      detail::put(bytes, out.sim_duration);
      detail::put(bytes, out.steps);
      detail::put(bytes, out.waits);
      detail::put(bytes, out.energy);
    } catch (const std::exception& e) {
      bytes.clear();
      status = 1;
      detail::put(bytes, status);
      bytes += e.what();
    }
    for (std::size_t at = 0; at < bytes.size();) {
      const ssize_t n = write(fds[1], bytes.data() + at, bytes.size() - at);
      if (n <= 0) _exit(4);
      at += std::size_t(n);
    }
    _exit(0);  // no exit handlers: the parent owns the test run
  }
  close(fds[1]);
  std::string bytes;
  char buffer[65536];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) bytes.append(buffer, std::size_t(n));
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || bytes.empty())
    throw std::runtime_error("the simulation's child process died (status " + std::to_string(wstatus) + ")");
  std::size_t at = 0;
  char status = 0;
  detail::get(bytes, at, status);
  if (status != 0) throw std::runtime_error(bytes.substr(at));
  engine::RunOutput out;
  detail::get(bytes, at, out.requests);
  detail::get(bytes, at, out.tiers);
  detail::get(bytes, at, out.links);
  detail::get(bytes, at, out.tier_samples);
  detail::get(bytes, at, out.sim_duration);
  detail::get(bytes, at, out.steps);
  detail::get(bytes, at, out.waits);
  detail::get(bytes, at, out.energy);
  return out;
}

inline engine::RunOutput run_with(config::Scenario& scenario, std::vector<workload::Request> requests) {
  const bool closed_loop = scenario.workload.closed_loop;
  scenario.workload = workload::WorkloadSpec::of_requests(std::move(requests));
  scenario.workload.closed_loop = closed_loop;
  return simulate_isolated(scenario);
}

// Runs the scenario's own workload (generator or trace).
inline engine::RunOutput run_generated(config::Scenario& scenario) { return simulate_isolated(scenario); }

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
