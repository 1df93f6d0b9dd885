// libFuzzer harness: the per-line parsers of every trace format (workloads/readers/
// format.hpp): format detection on the first line, header() on it, then parse() on every
// line. A line either parses or throws kvsim::InputError; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/util/error.hpp"
#include "sim/util/text.hpp"
#include "workloads/readers/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kvsim::workload;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const TraceFormatInfo& format : trace_formats()) {
    auto parser = format.open("fuzz");
    std::string_view rest = text;
    long number = 0;
    bool first = true;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      // As the reader hands lines over: stripped of blanks and \r, empty ones skipped.
      const std::string_view line = kvsim::strip_blanks(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      ++number;
      if (line.empty()) continue;
      if (first) {
        first = false;
        (void)format.detect(line);
        bool was_header = false;
        try {
          was_header = parser->header(line, number);
        } catch (const kvsim::InputError&) {
          break;  // the reader stops at a malformed header
        }
        parser->trace_block_size = parser->default_block_size();  // as the reader sets it
        if (was_header) continue;
      }
      try {
        TraceRecord record;
        parser->parse(line, number, record);
      } catch (const kvsim::InputError&) {
      }
    }
  }
  return 0;
}
