// What a run produces, as plain data: one record per request and a summary. The HDF5
// writer stores them (results/README.md documents every column) and the CLI prints them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <map>
#include <vector>

#include "sim/results/energy.hpp"
#include "sim/results/overload.hpp"
#include "sim/results/slo.hpp"

namespace kvsim::results {

enum class RequestStatus : std::uint8_t {
  completed = 0,  // all output tokens generated
  rejected = 1,   // could never be served (e.g. prompt larger than the instance's KV capacity)
  unfinished = 2, // still queued or running when the run's time limit was reached
};
const char* to_string(RequestStatus status);

struct RequestRecord {
  std::uint64_t id = 0;
  std::uint64_t session = 0;
  std::int64_t parent = -1;
  std::uint32_t turn = 1;
  std::int32_t instance = -1;     // serving instance, -1 if never placed
  double arrival = 0;             // s
  double first_token = -1;        // s, time the first output token was produced (-1: never)
  double finish = -1;             // s, time the last output token was produced (-1: never)
  double ttft = -1;               // s, first_token - arrival
  double tpot = -1;               // s, (finish - first_token) / (output_tokens - 1); 0 for one token
  double e2e = -1;                // s, finish - arrival
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::uint32_t cached_tokens = 0;  // prompt tokens served from the prefix cache (last admission)
  std::uint32_t hbm_tokens = 0;     // of which found in the instance's HBM
  std::uint32_t dram_tokens = 0;    // of which loaded from host DRAM
  std::uint32_t ssd_tokens = 0;     // of which loaded from the node's SSD
  std::uint32_t remote_tokens = 0;  // of which loaded from the remote pool
  double load_wait = 0;             // s spent waiting for KV loads before computing
  std::uint32_t preemptions = 0;    // times the request was preempted (recompute)
  RequestStatus status = RequestStatus::unfinished;
  // 0 when the request arrived in the warm-up or cool-down (run.warmup, run.cooldown): it
  // was simulated but the summary leaves it out.
  std::uint8_t in_window = 1;
  // Request type ("chat", "api", a trace's type) and category (type x turn, "chat_2",
  // "chat_5+": workloads/category.hpp), NUL-padded; longer type names are cut at 24 bytes.
  char type[24] = {};
  char category[28] = {};
  std::uint8_t service_class = 0;  // Request priority: 0 online, larger = less important (offline)
  // Prefill/decode disaggregation (sim/engine/kv_handoff.hpp): where the prefill ran and
  // where the decode ran (-1 when not disaggregated), and the move of the context KV between
  // them (NaN when not disaggregated, or the end while still in flight).
  std::int32_t prefill_instance = -1;
  std::int32_t decode_instance = -1;
  double kv_transfer_bytes = std::numeric_limits<double>::quiet_NaN();  // B
  double kv_transfer_start = std::numeric_limits<double>::quiet_NaN();  // s
  double kv_transfer_end = std::numeric_limits<double>::quiet_NaN();    // s
};

// Requests rejected for one cause (a reason up to its numbers) and the first full reason.
struct RejectionCause {
  std::string example;
  std::uint64_t count = 0;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

// The summary's figures for one service class (requests of one priority), in the window.
struct ClassRecord {
  std::uint8_t service_class = 0;
  std::uint64_t requests = 0, completed = 0, rejected = 0, unfinished = 0, preemptions = 0;
  double ttft_p50 = 0, ttft_p99 = 0, tpot_p50 = 0, tpot_p99 = 0, e2e_p50 = 0, e2e_p99 = 0;  // s
  double throughput_rps = 0;       // completed / window_duration
  double output_tokens_per_s = 0;  // output tokens of completed requests / window_duration
  double slo_attainment = 0;       // fraction meeting every per-request target
  double goodput_rps = 0, goodput_tokens_per_s = 0;
};

// The summary's figures for one [[instances]] group (the single [instances] table is one
// group named "instances"), over the requests in the window served by its instances.
struct GroupRecord {
  char name[32] = {};   // group name, NUL-padded
  char role[8] = {};    // "mixed", "prefill" or "decode"
  char model[32] = {};  // model card name
  char gpu[24] = {};    // GPU card name
  std::uint32_t tp = 0;         // GPUs per instance
  std::uint32_t instances = 0;  // instances in the group (consecutive instance indices, in group order)
  std::uint64_t requests = 0, completed = 0, preemptions = 0;
  double throughput_rps = 0;       // completed / window_duration
  double output_tokens_per_s = 0;  // output tokens of completed requests / window_duration
  double ttft_p50 = 0, ttft_p99 = 0, tpot_p50 = 0, tpot_p99 = 0, e2e_p50 = 0, e2e_p99 = 0;  // s, 0 without completed requests
  double prefix_hit_ratio = 0;     // Σ cached_tokens / Σ input_tokens over completed requests (0 without)
};

struct Summary {
  std::uint64_t requests = 0;        // requests released by the workload
  std::uint64_t completed = 0;
  std::uint64_t rejected = 0;
  std::uint64_t unfinished = 0;
  double sim_duration = 0;           // s, last event time
  double throughput_rps = 0;         // completed requests / sim_duration
  double output_tokens_per_s = 0;    // output tokens of completed requests / sim_duration
  Percentiles ttft, tpot, e2e;       // s, over completed requests
  double prefix_hit_ratio = 0;       // Σ cached_tokens / Σ input_tokens over completed requests
  std::uint64_t preemptions = 0;     // Σ over requests
  double wall_time = 0;              // s of real time spent simulating
  double requests_per_wall_second = 0;  // requests released / wall_time
  // Steady-state window (run.warmup, run.cooldown): the counts, percentiles and rates above
  // cover the requests in the window only.
  std::uint64_t excluded = 0;        // requests released in the warm-up or cool-down
  double window_duration = 0;        // s, denominator of the rates: sim_duration without a
                                     // window, else last arrival - cooldown - warmup
  // SLOs (sim/results/slo.hpp) and overload (sim/results/overload.hpp).
  double slo_attainment = 0;         // fraction of the requests meeting every per-request target
  std::uint8_t slo_pass = 1;         // 1 when every bound holds (and without bounds)
  double goodput_rps = 0;            // requests meeting the SLOs / window_duration
  double goodput_tokens_per_s = 0;   // their output tokens / window_duration
  std::uint8_t overloaded = 0;       // 1 when the wait for a first token grows without bound
  double overload_growth = 0;        // s of extra wait per s of arrivals (overload rule)
  // Energy and cost over the whole run, warm-up and cool-down included (sim/results/energy.hpp).
  double energy_joules = 0;                  // J, every serving GPU
  double average_power_watts = 0;            // W, energy_joules / sim_duration
  double joules_per_output_token = 0;        // J per output token of every completed request
  double cost = 0;                           // [cost] prices x GPU-hours, GB-hours, kWh
  double cost_per_million_output_tokens = 0; // cost per 1e6 output tokens of completed requests
  // Prefill/decode disaggregation: completed requests of the window whose KV moved from a
  // prefill to a decode instance, and that move's duration (kv_transfer_end - start).
  std::uint64_t kv_handoffs = 0;
  double kv_transfer_mean = 0;       // s
  double kv_transfer_p99 = 0;        // s
  std::vector<SloRecord> slo;        // one per bound: the /slo table
  std::vector<ClassRecord> classes;  // one per service class present: the /classes table
  std::vector<GroupRecord> groups;   // one per instance group (SummaryOptions.groups): the /groups table
  std::string overload_explanation;  // one sentence for the table
  double run_output_tokens = 0;      // output tokens of every completed request, window or not
};

// Percentiles with linear interpolation between closest ranks (numpy's default), so the
// figures can be checked against pandas on the /requests table. Empty input gives zeros.
Percentiles percentiles(std::vector<double> values);
// numpy's linear percentile (percent in [0, 100]) of sorted, non-empty, finite values.
double sorted_percentile(const std::vector<double>& sorted, double percent);

Summary summarize(std::span<const RequestRecord> records, double sim_duration, double wall_time);

// Human-readable table (the end-of-run summary) and one-line JSON object.
void print_summary_table(std::ostream& out, const Summary& summary);
void print_summary_json(std::ostream& out, const Summary& summary);

// One KV tier instance (an instance's HBM, a node's DRAM or SSD, the remote pool).
struct TierRecord {
  char tier[8] = {};       // "hbm", "dram", "ssd", "remote"
  std::int32_t location = 0;  // instance index (hbm, per-instance dram), node index, or 0 (remote)
  std::uint64_t capacity_blocks = 0;
  std::uint64_t lookup_blocks = 0;   // prompt blocks looked up here (missed every tier above)
  std::uint64_t hit_blocks = 0;      // of which found here
  std::uint64_t loaded_blocks = 0;   // blocks loaded from here into HBM
  double loaded_bytes = 0;           // B
  std::uint64_t written_blocks = 0;  // blocks written here (demotion or write-through)
  double written_bytes = 0;          // B
  std::uint64_t evicted_blocks = 0;
  std::uint64_t occupancy_blocks = 0;  // at the end of the run
};

// Bytes moved and busy time of one link direction or disk.
struct LinkRecord {
  char name[48] = {};
  double bytes = 0;  // B
  double busy = 0;   // s with at least one transfer in flight
};

// Occupancy of tier row `tier` (index into the /tiers table) at `time`.
struct TierSample {
  double time = 0;          // s
  std::uint32_t tier = 0;
  std::uint64_t occupancy_blocks = 0;
};

// One instance's state at a sample time (rows only when it changed since its last row).
struct InstanceSample {
  double time = 0;                 // s
  std::uint32_t instance = 0;
  std::uint32_t waiting = 0;       // requests queued, not yet admitted
  std::uint32_t running = 0;       // requests admitted (prefilling or decoding)
  std::uint64_t batch_tokens = 0;  // tokens computed by the step in progress
  std::uint64_t hbm_blocks = 0;    // KV blocks held in HBM (used or cached)
};

// A link's utilisation at a sample time (rows only while it carries traffic, and the first
// sample after it stops).
struct LinkSample {
  double time = 0;          // s
  char link[48] = {};       // SimGrid link name
  double utilization = 0;   // fraction of its bandwidth in use
};

// Root attributes of a results file.
struct RunMetadata {
  std::string kvsim_version;
  std::string git_revision;
  std::string simgrid_version;
  std::uint64_t seed = 0;
  std::string command_line;
  std::string config_toml;  // resolved config, defaults filled in
  double wall_time = 0;     // s
  // What the workload source dropped or repaired ("bad_lines=3; failed_requests=2"), "" if
  // nothing (a trace read with skip_bad_lines, BurstGPT failures, ...).
  std::string workload_report;
};

// Fails early (InputError naming the path) when a results file could not be created at
// path: parent directories are created, and a probe file is created and removed.
void check_output_path(const std::string& path);

// Writes the results file atomically: everything goes to "<path>.tmp-<pid>" which is renamed
// to path only once complete; on any failure the temporary file is removed and an
// InputError naming the path is thrown. Parent directories are created.
struct RunTables {
  std::span<const RequestRecord> requests{};
  std::span<const TierRecord> tiers{};
  std::span<const LinkRecord> links{};
  std::span<const TierSample> tier_samples{};
  std::span<const EnergyRecord> energy{};
  std::span<const EnergySample> energy_samples{};
  std::span<const InstanceSample> instance_samples{};
  std::span<const LinkSample> link_samples{};
};

void write_hdf5(const std::string& path, const RunMetadata& metadata, const RunTables& tables, const Summary& summary);

// A results file written while the run goes on: /requests rows are appended in chunks as
// they are final, so memory does not grow with the number of requests, and the rest is
// written by commit(). Until commit() renames it into place the file lives under its
// temporary name, which the destructor removes: an interrupted or failed run leaves nothing
// that looks complete. Failures are InputErrors naming the path.
class ResultsFile {
 public:
  explicit ResultsFile(const std::string& path);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  void append_requests(std::span<const RequestRecord> rows);
  // Appends tables.requests too, then writes the other tables, the summary and the
  // attributes, closes and renames.
  void commit(const RunMetadata& metadata, const RunTables& tables, const Summary& summary);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Accumulates a Summary from request rows given one at a time, in any order (a run's rows
// as they are streamed to the results file).
struct SummaryOptions {
  std::vector<SloBound> slo;
  double warmup = 0;    // s (only to size the window; rows carry their own in_window flag)
  double cooldown = 0;  // s
};

class SummaryBuilder {
 public:
  explicit SummaryBuilder(SummaryOptions options = {});
  // Instance groups, before the first add(): their identity columns (the builder fills the
  // figures) and the group of each instance. Without: no /groups rows.
  void set_groups(std::vector<GroupRecord> groups, std::vector<std::int32_t> instance_group);
  void add(const RequestRecord& record);
  Summary finish(double sim_duration, double wall_time);

 private:
  std::vector<ClassRecord> class_figures(double window_duration) const;

  SummaryOptions options_;
  SloTally slo_;
  OverloadDetector overload_;
  double last_arrival_ = 0;
  Summary s_;
  std::vector<double> ttft_, tpot_, e2e_;
  std::vector<double> kv_transfer_;  // s, per hand-off of a completed request
  // Service class of each ttft_/e2e_ value and of each tpot_ value, and the per-class
  // counters, for the /classes table (2 bytes per request).
  std::vector<std::uint8_t> class_of_completed_, class_of_tpot_;
  std::map<std::uint8_t, ClassRecord> class_counts_;
  std::map<std::uint8_t, double> class_output_tokens_;
  // Per group: the group of each ttft_/e2e_ and tpot_ value (only with two groups or more;
  // one group's figures are the run's), and its token sums.
  std::vector<std::uint16_t> group_of_ttft_, group_of_e2e_, group_of_tpot_;
  std::vector<std::int32_t> instance_group_;
  std::vector<double> group_output_tokens_, group_cached_tokens_, group_input_tokens_;
  void add_to_group(const RequestRecord& record);
  void group_figures(Summary& summary) const;
  double output_tokens_ = 0, cached_tokens_ = 0, input_tokens_ = 0;
};
// A file with only requests (the other tables empty).
inline void write_hdf5(const std::string& path, const RunMetadata& metadata, std::span<const RequestRecord> requests,
                       const Summary& summary) {
  write_hdf5(path, metadata, RunTables{.requests = requests}, summary);
}

}  // namespace kvsim::results
