// What a run produces, as plain data: one record per request and a summary. The HDF5
// writer stores them (results/README.md documents every column) and the CLI prints them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

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
  std::uint32_t preemptions = 0;    // times the request was preempted (recompute)
  RequestStatus status = RequestStatus::unfinished;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
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
};

// Percentiles with linear interpolation between closest ranks (numpy's default), so the
// figures can be checked against pandas on the /requests table. Empty input gives zeros.
Percentiles percentiles(std::vector<double> values);

Summary summarize(std::span<const RequestRecord> records, double sim_duration, double wall_time);

// Human-readable table (the end-of-run summary) and one-line JSON object.
void print_summary_table(std::ostream& out, const Summary& summary);
void print_summary_json(std::ostream& out, const Summary& summary);

// Root attributes of a results file.
struct RunMetadata {
  std::string kvsim_version;
  std::string git_revision;
  std::string simgrid_version;
  std::uint64_t seed = 0;
  std::string command_line;
  std::string config_toml;  // resolved config, defaults filled in
  double wall_time = 0;     // s
};

// Fails early (InputError naming the path) when a results file could not be created at
// path: parent directories are created, and a probe file is created and removed.
void check_output_path(const std::string& path);

// Writes the results file atomically: everything goes to "<path>.tmp-<pid>" which is renamed
// to path only once complete; on any failure the temporary file is removed and an
// InputError naming the path is thrown. Parent directories are created.
void write_hdf5(const std::string& path, const RunMetadata& metadata,
                std::span<const RequestRecord> requests, const Summary& summary);

}  // namespace kvsim::results
