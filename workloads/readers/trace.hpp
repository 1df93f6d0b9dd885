// Trace files: readers (one file per format under workloads/readers/, one registry line
// each) that stream the canonical Request, and writers for the formats kvsim can emit.
//
// Block identities: every reader produces prefix identities at the *engine* block size
// (TraceOptions::block_size) from the trace's own blocks (TraceOptions::trace_block_size or
// the format's default): engine block j covers tokens [jE, (j+1)E); its identity is the
// trace's prefix identity of the trace block holding token (j+1)E-1, chained with the end
// offset inside that block. Equal identities therefore still mean equal prefixes whatever
// the two block sizes are (a trace block that is only partly covered can only make two
// requests miss, never hit wrongly). Per-block content hashes (Bailian) are chained into
// prefix identities first; prefix hashes (Mooncake) are used as they are.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "workloads/request.hpp"

namespace kvsim::workload {

struct TraceOptions {
  std::string format = "auto";         // registry name, or "auto": detected from the content
  std::uint32_t block_size = 16;       // engine block size in tokens
  std::uint32_t trace_block_size = 0;  // the trace's block size; 0 = the format's default
  double speed = 1.0;                  // inter-arrival times are divided by this
  // s of trace time: requests before are skipped. No lower bound by default: a trace's
  // times may start below 0 (they are rebased like any others: the first kept request
  // arrives at 0), and nothing is dropped unless a window asks for it.
  double window_start = -std::numeric_limits<double>::infinity();
  double window_end = std::numeric_limits<double>::infinity();  // s of trace time: and after
  std::uint64_t limit = 0;             // at most this many requests (0 = all)
  bool skip_bad_lines = false;         // count malformed lines instead of failing
  bool sort = false;                   // sort out-of-order timestamps (reads the whole file)
};

// Opens a trace as a Source (arrivals rebased so the first kept request arrives at 0 s,
// then scaled by speed). Errors are InputError naming file, line and field.
std::unique_ptr<Source> open_trace(const std::string& path, const TraceOptions& options);

// Tokens per block of a trace's hashes as open_trace reads them (options.trace_block_size,
// else the format's default or the kvsim header's), 0 for a format without hashes. Reads
// only the first line or two.
std::uint32_t trace_hash_block_size(const std::string& path, const TraceOptions& options);

// The detected format of a file ("bailian", "mooncake", "azure", "burstgpt", "kvsim").
std::string detect_trace_format(const std::string& path);
std::vector<std::string> trace_format_names();

// Writes every request of source to path in format ("kvsim", "bailian", "mooncake").
// Writes to a temporary name and renames when complete.
void write_trace(Source& source, const std::string& path, const std::string& format, std::uint32_t block_size);
std::vector<std::string> trace_writer_names();

// Engine-block identities of an input of input_tokens tokens from the trace's prefix
// identities (ceil(input_tokens / trace_block_size) of them; empty = all unique, gives
// empty), by the rule at the top of this file. Made precise for partial blocks: the engine
// block ending at token end (exclusive; the input's end for the last block) takes the
// identity P_k of the trace block k holding token end-1 when it ends where that block ends
// in this request (min((k+1)T, input_tokens)), and chain_block(P_k, end - kT) otherwise.
// So equal block sizes give the trace's identities unchanged.
std::vector<BlockId> map_trace_blocks(const std::vector<BlockId>& trace_blocks, std::uint32_t input_tokens,
                                      std::uint32_t trace_block_size, std::uint32_t block_size);

}  // namespace kvsim::workload
