// What one trace format plugs into the shared reader (trace_source.cpp) and writer: a line
// parser producing TraceRecords in the trace's own terms, and optionally a writer. Each
// format is one file under workloads/readers/ named like its registry entry
// (registry.cpp). The shared reader does everything format-independent: line reading,
// ordering checks or sorting, window/limit/speed, bad-line accounting, ids, sessions,
// categories and the mapping of trace blocks onto engine blocks.
#pragma once

#include "sim/util/registry.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/util/text.hpp"
#include "workloads/request.hpp"

namespace kvsim::workload {

// One request as a trace line describes it, before the shared reader turns it into a Request.
struct TraceRecord {
  long line = 0;                        // line number in the file (1-based)
  double time = 0.0;                    // s of trace time (not yet windowed or rebased)
  std::optional<std::uint64_t> id;      // the trace's own request id; none = numbered in order
  std::int64_t parent = -1;             // the trace's parent id, -1 = none
  std::optional<std::uint64_t> session; // explicit session id (kvsim); none = derived
  std::string session_key;              // label whose requests form one session in order (BurstGPT)
  std::uint32_t turn = 1;
  std::string type;                     // category name
  std::uint8_t priority = 0;
  double think_time = -1.0;             // s, negative = unknown
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  // Prefix identities of the trace's blocks (per-block hashes already chained); empty = no
  // hashes (every block unique).
  std::vector<BlockId> blocks;
  bool failed = false;                  // a failed request in the trace: counted, not replayed
};

class FormatParser {
 public:
  virtual ~FormatParser() = default;
  // Called with the first non-empty line. Returns true when it was a header (consumed);
  // a malformed header is an InputError (never skipped).
  virtual bool header(std::string_view line, long number) = 0;
  // Parses one data line into record (whose fields are reset to their defaults by the
  // caller); a malformed line is an InputError naming line and field.
  virtual void parse(std::string_view line, long number, TraceRecord& record) = 0;
  // Names of the time and id fields, for ordering and duplicate-id errors.
  virtual std::string_view time_field() const = 0;
  virtual std::string_view id_field() const { return "id"; }
  // The trace's block size in tokens when the format carries hashes (after header()).
  virtual std::uint32_t default_block_size() const { return 0; }
  // Category names known before any line (kvsim's header); others are added first-seen.
  virtual std::vector<std::string> initial_categories() const { return {}; }
  // Whether report() includes failed_requests (formats that record failures).
  virtual bool records_failures() const { return false; }

  std::string file;                   // for error messages
  std::uint32_t trace_block_size = 0; // set before the first data line (0 = format has no hashes)
};

// Writes every request of a source as one format. block_size: tokens per Request::blocks entry.
using TraceWriteFn = void (*)(Source& source, std::ostream& out, std::uint32_t block_size);

struct TraceFormatInfo {
  std::string_view name;
  std::string_view summary;
  // Whether the first non-empty line of a file looks like this format.
  bool (*detect)(std::string_view first_line);
  std::unique_ptr<FormatParser> (*open)(const std::string& file);
};

struct TraceWriterInfo {
  std::string_view name;
  TraceWriteFn write;
};

// The format and writer families (one file each plus one registry line).
const Registry<TraceFormatInfo>& trace_formats();
const Registry<TraceWriterInfo>& trace_writers();

// ----- helpers shared by the formats -----------------------------------------------------

// Checks a token count read as a signed number and narrows it: negative or > 2^32-1 is an
// InputError naming the field.
std::uint32_t token_count(std::int64_t value, const std::string& file, long line, std::string_view field);
// Checks that a trace gives ceil(input_tokens / block_size) hashes.
void check_block_count(std::size_t count, std::uint32_t input_tokens, std::uint32_t block_size,
                       const std::string& file, long line, std::string_view field);
// Index of a header column, or -1.
int csv_column(std::span<const std::string_view> header, std::string_view name);
// Whether the CSV header line names every one of columns (format detection).
bool csv_header_has(std::string_view header_line, std::initializer_list<std::string_view> columns);
// The column of name in header, or an InputError at line `number` listing the expected header.
int required_csv_column(std::span<const std::string_view> header, std::string_view name, const std::string& file,
                        long number, std::string_view expected);
// The cells of a data line, which must have exactly `columns` of them (else an InputError).
std::vector<std::string_view> split_csv_row(std::string_view line, std::size_t columns, const std::string& file,
                                            long number);
// Appends ids to line as comma-separated decimal numbers (the bulk of every trace line).
void append_id_list(std::string& line, std::span<const BlockId> ids);

template <class Value>
class U64Map;
// Block identities renumbered 0, 1, 2, ... in order of first appearance across a whole
// written trace, which is how the published Bailian and Mooncake traces number their
// hash_ids. Equal identities stay equal and distinct ones distinct, so every cache answer
// is unchanged; a file written this way reads like the real ones, is about half the bytes
// of 20-digit 64-bit identities (and parses about twice as fast), and a real trace read and
// written again at its own block size keeps its numbers. Costs 16-32 bytes per distinct
// block while writing.
class DenseBlockIds {
 public:
  DenseBlockIds();
  ~DenseBlockIds();
  DenseBlockIds(const DenseBlockIds&) = delete;
  DenseBlockIds& operator=(const DenseBlockIds&) = delete;
  // Appends the numbers of ids to line, as append_id_list does.
  void append(std::string& line, std::span<const BlockId> ids);

 private:
  std::unique_ptr<U64Map<std::uint64_t>> numbers_;
  std::vector<BlockId> scratch_;
};
// A CSV cell as a number or a (signed) integer; malformed is an InputError naming the column.
double csv_number(std::string_view cell, const std::string& file, long line, std::string_view column);
std::int64_t csv_integer(std::string_view cell, const std::string& file, long line, std::string_view column);
// A cell quoted for an error message, cut after 60 bytes (with its length): a malformed
// multi-megabyte cell must not make a multi-megabyte message.
std::string echo_cell(std::string_view cell);
// Shortest text that reads back as exactly the same double.
std::string format_double(double value);
// Identities of a request's blocks as a writer must spell them: the source's own, or (when
// the request has none, i.e. all unique) ids derived from the request id that no other
// request shares.
std::vector<BlockId> blocks_for_writing(const Request& request, std::uint32_t block_size);
// ceil(input_tokens / block_size); an InputError when request has identities but not that many.
std::uint64_t check_block_count(const Request& request, std::uint32_t block_size);

}  // namespace kvsim::workload
