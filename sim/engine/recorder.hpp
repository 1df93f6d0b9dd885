// The recorder: subscribes to what the engine reports about requests (released, rejected,
// finished, still unfinished at the end) and turns it into the rows of /requests. Results
// flow one way: the actors emit events, the recorder keeps what the results file needs.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/scheduling/serving_engine.hpp"
#include "sim/results/records.hpp"
#include "workloads/request.hpp"

namespace kvsim::engine {

class Recorder {
 public:
  explicit Recorder(std::uint32_t block_size) : block_size_(block_size) {}

  // The request was released at now and routed to instance; rejected: it can never be
  // served there (reason says why).
  void released(const workload::Request& request, double now, int instance);
  void rejected(const workload::Request& request, double now, int instance, const std::string& reason);
  void finished(const scheduling::Sequence& seq, int instance);
  // A request still queued or running when the run ended.
  void unfinished(const scheduling::Sequence& seq);

  // Requests released so far that completed or were rejected.
  std::uint64_t done() const { return done_; }
  // The rows, sorted by request id.
  std::vector<results::RequestRecord> take_sorted();

 private:
  results::RequestRecord& row(std::uint64_t id);
  void fill_cache_columns(results::RequestRecord& r, const scheduling::Sequence& seq) const;

  std::uint32_t block_size_;
  std::vector<results::RequestRecord> records_;
  std::unordered_map<std::uint64_t, std::size_t> slot_of_;  // request id → records_ index
  std::uint64_t done_ = 0;
};

}  // namespace kvsim::engine
