// The recorder: subscribes to what the engine reports about requests (released, rejected,
// finished, still unfinished at the end) and turns it into the rows of /requests. Results
// flow one way: the actors emit events, the recorder keeps what the results file needs.
//
// Rows are kept in release order. With a sink, the longest prefix of final rows (completed
// or rejected) is handed to it in chunks as the run goes on, so memory holds only the rows
// of requests still in the system (and those released after them); without one, every row
// is kept and take_sorted() returns them by id (tests and tools that want the whole table).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/scheduling/serving_engine.hpp"
#include "sim/results/records.hpp"
#include "workloads/request.hpp"

namespace kvsim::engine {

// The steady-state window (run.warmup, run.cooldown): a row is in it when warmup <=
// arrival <= last arrival - cooldown.
struct SteadyWindow {
  double warmup = 0, cooldown = 0;
};

class Recorder {
 public:
  using Sink = std::function<void(std::span<const results::RequestRecord>)>;
  using Window = SteadyWindow;
  explicit Recorder(std::uint32_t block_size, Sink sink = {}, Window window = {})
      : block_size_(block_size), sink_(std::move(sink)), window_(window) {}

  // The request was released at now and routed to instance; rejected: it can never be
  // served there (reason says why).
  void released(const workload::Request& request, double now, int instance);
  // Names of Request::category, for the type and category columns (the workload source's
  // categories(), which lives as long as the run; names may be added as it is read).
  void set_type_names(const std::vector<std::string>* names) { type_names_ = names; }
  void rejected(const workload::Request& request, double now, int instance, const std::string& reason);
  void finished(const scheduling::Sequence& seq, int instance);
  // P/D disaggregation (kv_handoff.hpp): the request's prefill on prefill_instance is done
  // and decode_instance will decode it; its context KV started moving (bytes, at start) and
  // arrived (at end).
  void handed_off(std::uint64_t id, int prefill_instance, int decode_instance);
  void kv_transfer_started(std::uint64_t id, double bytes, double start);
  void kv_transfer_ended(std::uint64_t id, double end);
  // A request still queued or running when the run ended.
  void unfinished(const scheduling::Sequence& seq);

  // Rejections by cause, in order of first occurrence: a cause is a reason with its numbers
  // blanked out, so "9000 tokens need 563 KV blocks" and "12000 tokens need 750 KV blocks"
  // count together; example is the first full reason of the cause.
  std::vector<results::RejectionCause> rejection_causes() const { return causes_; }

  // Requests released so far that completed or were rejected.
  std::uint64_t done() const { return done_; }
  // Without a sink: the rows, sorted by request id. With one: hands every remaining row to
  // the sink (in release order) and returns nothing.
  std::vector<results::RequestRecord> take_sorted();

 private:
  results::RequestRecord& row(std::uint64_t id);
  void fill_cache_columns(results::RequestRecord& r, const scheduling::Sequence& seq) const;

  // Hands the final rows at the front to the sink once there are enough of them.
  void flush(bool all);

  // Flags rows as in or out of the window, knowing that the last arrival is at least
  // latest_arrival_ (exactly, once the run is over).
  void mark_window(results::RequestRecord& r) const;

  std::uint32_t block_size_;
  Sink sink_;
  Window window_;
  double latest_arrival_ = 0;
  const std::vector<std::string>* type_names_ = nullptr;
  std::deque<results::RequestRecord> records_;            // release order, from row first_
  std::uint64_t first_ = 0;                                 // release index of records_.front()
  std::size_t final_prefix_ = 0;  // records_[0, final_prefix_) are known to be final
  std::unordered_map<std::uint64_t, std::uint64_t> slot_of_;  // request id → release index
  std::uint64_t done_ = 0;
  std::vector<results::RejectionCause> causes_;
  std::unordered_map<std::string, std::size_t> cause_of_;  // reason without numbers → index in causes_
};

}  // namespace kvsim::engine
