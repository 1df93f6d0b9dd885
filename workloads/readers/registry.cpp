// Registry of trace formats (readers) and writers: a format is one file in this folder plus
// one line here. Detection tries the formats in this order on the first non-empty line.
#include "workloads/readers/format.hpp"

namespace kvsim::workload {

bool detect_kvsim(std::string_view);
bool detect_bailian(std::string_view);
bool detect_mooncake(std::string_view);
bool detect_azure(std::string_view);
bool detect_burstgpt(std::string_view);
std::unique_ptr<FormatParser> open_kvsim(const std::string&);
std::unique_ptr<FormatParser> open_bailian(const std::string&);
std::unique_ptr<FormatParser> open_mooncake(const std::string&);
std::unique_ptr<FormatParser> open_azure(const std::string&);
std::unique_ptr<FormatParser> open_burstgpt(const std::string&);
void write_kvsim(Source&, std::ostream&, std::uint32_t);
void write_bailian(Source&, std::ostream&, std::uint32_t);
void write_mooncake(Source&, std::ostream&, std::uint32_t);

namespace {

const Registry<TraceFormatInfo> formats{"trace format", {
    {"bailian", "Alibaba Bailian (ATC'25) JSONL: per-block hashes over 16-token blocks, chat sessions",
     detect_bailian, open_bailian},
    {"mooncake", "Mooncake (FAST'25) JSONL: ms timestamps, prefix hashes over 512-token blocks", detect_mooncake,
     open_mooncake},
    {"azure", "Azure LLM inference trace 2023/2024 CSV: TIMESTAMP,ContextTokens,GeneratedTokens", detect_azure,
     open_azure},
    {"burstgpt", "BurstGPT CSV: Timestamp,Model,Request tokens,Response tokens,... [,Session ID]", detect_burstgpt,
     open_burstgpt},
    {"kvsim", "kvsim's canonical JSONL (header line, then one Request per line)", detect_kvsim, open_kvsim},
}};

const Registry<TraceWriterInfo> writers{"trace writer", {
    {"kvsim", write_kvsim},
    {"bailian", write_bailian},
    {"mooncake", write_mooncake},
}};

}  // namespace

const Registry<TraceFormatInfo>& trace_formats() { return formats; }
const Registry<TraceWriterInfo>& trace_writers() { return writers; }

}  // namespace kvsim::workload
