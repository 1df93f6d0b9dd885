#include "sim/engine/recorder.hpp"

#include <algorithm>
#include <stdexcept>

#include <xbt/log.h>

#include "workloads/category.hpp"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_recorder, kvsim_engine, "per-request results");

namespace kvsim::engine {

namespace {
results::RequestRecord record_of(const workload::Request& request, double now, int instance) {
  results::RequestRecord r;
  r.id = request.id;
  r.session = request.session;
  r.parent = request.parent;
  r.turn = request.turn;
  r.arrival = now;
  r.input_tokens = request.input_tokens;
  r.output_tokens = request.output_tokens;
  r.instance = instance;
  r.service_class = request.priority;
  return r;
}
}  // namespace

namespace {
// Rows handed to the sink at once: enough to make HDF5 appends cheap.
constexpr std::size_t kChunkRows = 8192;
}  // namespace

void Recorder::released(const workload::Request& request, double now, int instance) {
  // With a sink, ids of rows already written are forgotten, so a duplicate is caught only
  // while its first occurrence is in the system; without one, always.
  if (!slot_of_.emplace(request.id, first_ + records_.size()).second)
    throw std::runtime_error("workload produced request id " + std::to_string(request.id) + " twice");
  records_.push_back(record_of(request, now, instance));
  if (type_names_ && request.category < type_names_->size()) {
    const std::string& type = (*type_names_)[request.category];
    auto& r = records_.back();
    type.copy(r.type, std::min(type.size(), sizeof r.type));
    const std::string category = workload::category_name(type, request.turn);
    category.copy(r.category, std::min(category.size(), sizeof r.category));
  }
  latest_arrival_ = std::max(latest_arrival_, now);
}

void Recorder::mark_window(results::RequestRecord& r) const {
  r.in_window = r.arrival >= window_.warmup && r.arrival <= latest_arrival_ - window_.cooldown;
}

void Recorder::flush(bool all) {
  if (!sink_) return;
  // final_prefix_ only moves forward between flushes, so finding the final rows at the front
  // costs O(1) amortized per request.
  // A row may leave only once it is final and a later arrival has put it out of reach of the
  // cool-down (the last arrival is not known before the end); rows leave in release order,
  // which is arrival order.
  while (final_prefix_ < records_.size() && records_[final_prefix_].status != results::RequestStatus::unfinished &&
         records_[final_prefix_].arrival <= latest_arrival_ - window_.cooldown)
    ++final_prefix_;
  const std::size_t n = all ? records_.size() : final_prefix_;
  if (n == 0 || (!all && n < kChunkRows)) return;
  std::vector<results::RequestRecord> chunk(records_.begin(), records_.begin() + long(n));
  for (auto& r : chunk) mark_window(r);
  for (const auto& r : chunk) slot_of_.erase(r.id);
  records_.erase(records_.begin(), records_.begin() + long(n));
  first_ += n;
  final_prefix_ = 0;
  sink_(chunk);
}

void Recorder::rejected(const workload::Request& request, double now, int instance, const std::string& reason) {
  released(request, now, instance);
  records_.back().status = results::RequestStatus::rejected;
  ++done_;
  flush(false);
  XBT_INFO("request %llu rejected: %s", (unsigned long long)request.id, reason.c_str());
  std::string cause;
  for (const char c : reason)
    if (!(c >= '0' && c <= '9')) cause += c;
    else if (cause.empty() || cause.back() != '#') cause += '#';
  const auto [it, fresh] = cause_of_.try_emplace(cause, causes_.size());
  if (fresh) causes_.push_back({reason, 0});
  ++causes_[it->second].count;
}

results::RequestRecord& Recorder::row(std::uint64_t id) { return records_[std::size_t(slot_of_.at(id) - first_)]; }

void Recorder::fill_cache_columns(results::RequestRecord& r, const scheduling::Sequence& seq) const {
  const double block = double(block_size_);
  r.cached_tokens = seq.cached_tokens;
  r.hbm_tokens = std::uint32_t(seq.hbm_hit_blocks * block);
  r.dram_tokens = std::uint32_t(seq.lower_hit_blocks[0] * block);
  r.ssd_tokens = std::uint32_t(seq.lower_hit_blocks[1] * block);
  r.remote_tokens = std::uint32_t(seq.lower_hit_blocks[2] * block);
  r.load_wait = seq.load_wait;
  r.preemptions = seq.preemptions;
}

void Recorder::finished(const scheduling::Sequence& seq, int instance) {
  auto& r = row(seq.request.id);
  r.instance = instance;
  r.first_token = seq.first_token;
  r.finish = seq.finish;
  r.ttft = seq.first_token - r.arrival;
  r.e2e = seq.finish - r.arrival;
  r.tpot = seq.request.output_tokens > 1 ? (seq.finish - seq.first_token) / double(seq.request.output_tokens - 1) : 0.0;
  fill_cache_columns(r, seq);
  r.status = results::RequestStatus::completed;
  ++done_;
  flush(false);
}

void Recorder::handed_off(std::uint64_t id, int prefill_instance, int decode_instance) {
  auto& r = row(id);
  r.prefill_instance = prefill_instance;
  r.decode_instance = decode_instance;
}

void Recorder::kv_transfer_started(std::uint64_t id, double bytes, double start) {
  auto& r = row(id);
  r.kv_transfer_bytes = bytes;
  r.kv_transfer_start = start;
}

void Recorder::kv_transfer_ended(std::uint64_t id, double end) { row(id).kv_transfer_end = end; }

void Recorder::unfinished(const scheduling::Sequence& seq) {
  auto& r = row(seq.request.id);
  fill_cache_columns(r, seq);
  if (seq.first_token >= 0) {
    r.first_token = seq.first_token;
    r.ttft = seq.first_token - r.arrival;
  }
}

std::vector<results::RequestRecord> Recorder::take_sorted() {
  if (sink_) {
    flush(true);
    return {};
  }
  std::vector<results::RequestRecord> rows(records_.begin(), records_.end());
  for (auto& r : rows) mark_window(r);
  records_.clear();
  slot_of_.clear();
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return rows;
}

}  // namespace kvsim::engine
