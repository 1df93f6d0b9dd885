// The shared trace reader and writer driver (trace.hpp): everything that does not depend
// on the format. Formats (format.hpp) only turn one line into a TraceRecord.
//
// Reading streams: one line in memory at a time, plus what sessions need (the id → session
// map of a format with its own ids, the last request of each BurstGPT session) and the
// category names. With sort = true the whole trace is read and stable-sorted first.
#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <unordered_map>

#include "sim/util/error.hpp"
#include "sim/util/output_file.hpp"
#include "workloads/analysis/u64_map.hpp"
#include "workloads/readers/format.hpp"
#include "workloads/readers/json_line.hpp"
#include "workloads/readers/trace.hpp"

namespace kvsim::workload {

namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Reads a file line by line, numbering lines from 1 and skipping blank ones, in large
// chunks (a line is a view into the chunk, valid until the next call). A UTF-8 byte-order
// mark at the very start of the file is skipped (editors on Windows add one). A line
// longer than kMaxLineBytes is an error, so a file that is not a trace (/dev/zero, a
// binary) fails after a bounded read instead of exhausting memory.
class LineReader {
 public:
  static constexpr std::size_t kMaxLineBytes = std::size_t{64} << 20;

  explicit LineReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw InputError(path, 0, "", "cannot open the trace: it is a directory");
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw InputError(path, 0, "", "cannot open the trace: " + std::string(std::strerror(errno)));
    if (std::filesystem::is_regular_file(path, ec)) size_ = std::filesystem::file_size(path, ec);
    if (ec) size_ = 0;
  }
  ~LineReader() {
    if (file_) std::fclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next non-blank line (stripped of surrounding blanks and \r), or false at the end.
  bool next(std::string_view& line) {
    while (true) {
      const char* data = buffer_.data();
      if (const void* nl = std::memchr(data + begin_, '\n', end_ - begin_)) {
        const auto stop = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
        if (stop - begin_ > kMaxLineBytes) too_long();
        line = take(stop, stop + 1);
        if (!line.empty()) return true;
        continue;
      }
      if (end_ - begin_ > kMaxLineBytes) too_long();
      if (eof_) {
        if (begin_ == end_) return false;
        line = take(end_, end_);  // a last line without a newline
        if (!line.empty()) return true;
        continue;
      }
      fill();
    }
  }
  long number() const { return number_; }
  // Share of the file consumed (lines handed out), negative when the size is unknown (a pipe).
  double fraction_read() const {
    return size_ > 0 ? std::min(1.0, double(read_ - (end_ - begin_)) / double(size_)) : -1.0;
  }

 private:
  std::string_view take(std::size_t stop, std::size_t resume) {
    std::string_view text(buffer_.data() + begin_, stop - begin_);
    begin_ = resume;
    if (++number_ == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    return strip_blanks(text);
  }
  void fill() {
    // Keep the partial line, move it to the front, and read behind it.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    if (got == 0) {
      if (std::ferror(file_)) throw InputError(path_, number_ + 1, "", "read error: " + std::string(std::strerror(errno)));
      eof_ = true;
    }
    end_ += got;
    read_ += got;
  }
  [[noreturn]] void too_long() const {
    throw InputError(path_, number_ + 1, "",
                     "line longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB; is this a trace file?");
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_ = std::vector<char>(std::size_t{4} << 20);
  std::size_t begin_ = 0, end_ = 0;  // unread bytes of buffer_
  bool eof_ = false;
  long number_ = 0;
  std::uintmax_t size_ = 0, read_ = 0;  // bytes in the file, bytes read from it
};

const TraceFormatInfo& find_format(const std::string& name, const std::string& path) {
  for (const auto& f : trace_formats())
    if (f.name == name) return f;
  throw InputError(path, 0, "format",
                   "unknown trace format \"" + name + "\" (formats: auto, " + join_names(trace_format_names()) + ")");
}

const TraceFormatInfo& detect_line(std::string_view line, const std::string& path, long number) {
  for (const auto& f : trace_formats())
    if (f.detect(line)) return f;
  // A JSON object no format recognised may just be malformed: its own error (named key,
  // column) says more than "cannot tell the format".
  if (!line.empty() && line.front() == '{') JsonLine().parse(line, path, number);
  throw InputError(path, number, "format",
                   "cannot tell the trace format from this line; expected one of " + join_names(trace_format_names()) +
                       " (pass the format explicitly)");
}

class TraceSource final : public Source {
 public:
  TraceSource(const std::string& path, const TraceOptions& options) : path_(path), options_(options), lines_(path) {
    if (!(options.speed > 0.0) || !std::isfinite(options.speed))
      throw InputError(path, 0, "speed", "expected a speed-up factor > 0");
    if (options.block_size == 0) throw InputError(path, 0, "block_size", "expected a block size >= 1 token");
    if (!(options.window_start <= options.window_end))
      throw InputError(path, 0, "window_end", "the window ends before it starts");

    std::string_view first;
    if (!lines_.next(first)) throw InputError(path, 0, "", "the trace is empty");
    const TraceFormatInfo& format =
        options.format == "auto" ? detect_line(first, path, lines_.number()) : find_format(options.format, path);
    format_name_ = format.name;
    parser_ = format.open(path);
    parser_->file = path;
    const bool was_header = parser_->header(first, lines_.number());
    const std::uint32_t format_block = parser_->default_block_size();
    block_size_ = options.block_size;
    parser_->trace_block_size = format_block == 0 ? 0 : (options.trace_block_size ? options.trace_block_size : format_block);
    for (const auto& name : parser_->initial_categories()) category_index(name, 0);
    header_only_candidate_ = was_header;
    if (!was_header) {
      first_line_ = std::string(first);
      first_line_number_ = lines_.number();
    }
    if (options.sort) read_all_sorted();
  }

  std::optional<Request> next() override {
    Request q;
    if (!next_into(q)) return std::nullopt;
    return q;
  }

  bool next_into(Request& q) override {
    while (!done_) {
      if (options_.limit > 0 && emitted_ >= options_.limit) break;
      if (!next_record(record_)) break;
      if (record_.time < options_.window_start) continue;
      if (record_.time > options_.window_end) break;  // in order: nothing later can be inside
      if (record_.failed) {
        ++failed_;
        continue;
      }
      ++emitted_;
      convert(record_, q);
      return true;
    }
    if (!done_ && read_any_ == 0 && header_only_candidate_)
      std::cerr << "kvsim: warning: " << path_ << ": the trace has a header but no request (read as 0 requests)\n";
    done_ = true;
    return false;
  }

  std::uint32_t hash_block_size() const { return parser_->trace_block_size; }

  std::uint64_t expected_count() const override {
    if (!options_.sort) return 0;
    return options_.limit > 0 ? std::min<std::uint64_t>(options_.limit, sorted_.size()) : sorted_.size();
  }
  const std::vector<std::string>& categories() const override { return categories_; }
  double progress(double) const override { return done_ ? 1.0 : lines_.fraction_read(); }
  std::vector<std::pair<std::string, std::uint64_t>> report() const override {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    if (options_.skip_bad_lines) out.emplace_back("bad_lines", bad_lines_);
    if (parser_->records_failures()) out.emplace_back("failed_requests", failed_);
    return out;
  }

 private:
  struct Seen {
    std::uint64_t session;
    long line;
  };
  struct KeyedSession {
    std::uint64_t session;
    std::uint64_t last;
    std::uint32_t turns;
  };

  // Parses the next good line of the file into record; false at the end of the file. Bad
  // lines (including out-of-order ones unless sorting) throw, or are counted and skipped.
  bool read_record(TraceRecord& record) {
    while (true) {
      std::string_view line;
      long number = 0;
      if (first_line_) {
        line = *first_line_;
        number = first_line_number_;
      } else if (lines_.next(line)) {
        number = lines_.number();
      } else {
        return false;
      }
      ++read_any_;
      try {
        // Reset to the defaults, keeping the block storage (no allocation per line).
        std::vector<BlockId> blocks = std::move(record.blocks);
        blocks.clear();
        record = TraceRecord{};
        record.blocks = std::move(blocks);
        record.line = number;
        parser_->parse(line, number, record);
        first_line_.reset();
        if (!std::isfinite(record.time))
          throw InputError(path_, number, std::string(parser_->time_field()), "expected a finite time");
        if (!options_.sort && have_last_ && record.time < last_time_)
          throw InputError(path_, number, std::string(parser_->time_field()),
                           "timestamps go back from " + format_double(last_time_) + " s (line " +
                               std::to_string(last_line_) + ") to " + format_double(record.time) + " s (line " +
                               std::to_string(number) + "); pass --sort to sort the trace");
        have_last_ = true;
        last_time_ = record.time;
        last_line_ = number;
        return true;
      } catch (const InputError&) {
        first_line_.reset();
        if (!options_.skip_bad_lines) throw;
        ++bad_lines_;
      }
    }
  }

  bool next_record(TraceRecord& record) {
    if (!options_.sort) return read_record(record);
    if (sorted_next_ == sorted_.size()) return false;
    record = std::move(sorted_[sorted_next_++]);
    return true;
  }

  void read_all_sorted() {
    TraceRecord record;
    while (read_record(record)) sorted_.push_back(std::move(record));
    std::stable_sort(sorted_.begin(), sorted_.end(),
                     [](const TraceRecord& a, const TraceRecord& b) { return a.time < b.time; });
  }

  std::uint16_t category_index(const std::string& name, long line) {
    const auto it = category_of_.find(name);
    if (it != category_of_.end()) return it->second;
    if (categories_.size() > std::numeric_limits<std::uint16_t>::max())
      throw InputError(path_, line, "type", "more than 65536 distinct request types");
    const auto index = static_cast<std::uint16_t>(categories_.size());
    categories_.push_back(name);
    category_of_.emplace(name, index);
    return index;
  }

  // Writes the request of r into q (every field; q's block storage is reused).
  void convert(TraceRecord& r, Request& q) {
    std::vector<BlockId> spare = std::move(q.blocks);
    q = Request{};
    q.id = r.id ? *r.id : next_id_++;
    q.turn = r.turn;
    if (!r.session_key.empty()) {
      auto [it, fresh] = keyed_.try_emplace(r.session_key, KeyedSession{q.id, q.id, 0});
      if (!fresh) q.parent = std::int64_t(it->second.last);
      q.session = it->second.session;
      q.turn = ++it->second.turns;
      it->second.last = q.id;
    } else {
      q.session = q.id;
      // A parent outside what was read (before the window, or cut from the trace) would
      // leave the request waiting on an id nothing produces: it starts its own session.
      if (r.parent >= 0) {
        if (const Seen* parent = seen_.find(std::uint64_t(r.parent))) {
          q.parent = r.parent;
          q.session = parent->session;
        }
      }
    }
    if (r.session) q.session = *r.session;
    if (r.id) {
      const auto [seen, fresh] = seen_.insert_one(q.id);
      if (!fresh)
        throw InputError(path_, r.line, std::string(parser_->id_field()),
                         "duplicate request id " + std::to_string(q.id) + " (first on line " +
                             std::to_string(seen->line) + ")");
      *seen = Seen{q.session, r.line};
    }
    q.category = category_index(r.type, r.line);
    q.priority = r.priority;
    if (!have_origin_) {
      origin_ = r.time;
      have_origin_ = true;
    }
    q.arrival = (r.time - origin_) / options_.speed;
    q.think_time = r.think_time >= 0 ? r.think_time / options_.speed : -1.0;
    q.input_tokens = r.input_tokens;
    q.output_tokens = r.output_tokens;
    // Same block sizes: the identities are the trace's own, swapped rather than copied
    // (the record keeps q's old storage for the next line).
    if (r.blocks.empty() || parser_->trace_block_size == block_size_) {
      spare.clear();
      q.blocks = std::move(spare);
      q.blocks.swap(r.blocks);
    } else {
      q.blocks = map_trace_blocks(r.blocks, r.input_tokens, parser_->trace_block_size, block_size_);
    }
  }

  std::string path_;
  TraceOptions options_;
  LineReader lines_;
  std::unique_ptr<FormatParser> parser_;
  std::string format_name_;
  std::uint32_t block_size_ = 16;
  std::optional<std::string> first_line_;  // first data line when it was not a header
  long first_line_number_ = 0;

  bool have_last_ = false;
  double last_time_ = 0.0;
  long last_line_ = 0;
  bool have_origin_ = false;
  double origin_ = 0.0;
  bool done_ = false;
  bool header_only_candidate_ = false;  // the first line was a header (warn if nothing follows)
  std::uint64_t read_any_ = 0;          // data lines read, good or bad
  std::uint64_t emitted_ = 0, bad_lines_ = 0, failed_ = 0, next_id_ = 0;

  TraceRecord record_;  // the line being read, reused (its block storage) from line to line
  std::vector<TraceRecord> sorted_;
  std::size_t sorted_next_ = 0;

  std::vector<std::string> categories_;
  std::unordered_map<std::string, std::uint16_t> category_of_;
  U64Map<Seen> seen_;  // a flat map: a trace with ids has millions of them
  std::unordered_map<std::string, KeyedSession> keyed_;
};

}  // namespace

std::vector<BlockId> map_trace_blocks(const std::vector<BlockId>& trace_blocks, std::uint32_t input_tokens,
                                      std::uint32_t trace_block_size, std::uint32_t block_size) {
  if (trace_blocks.empty() || trace_block_size == block_size) return trace_blocks;
  const std::uint64_t n = input_tokens, T = trace_block_size, E = block_size;
  std::vector<BlockId> out;
  out.reserve((n + E - 1) / E);
  for (std::uint64_t end = std::min(E, n);; end = std::min(end + E, n)) {
    const std::uint64_t k = (end - 1) / T;
    const std::uint64_t block_end = std::min((k + 1) * T, n);
    out.push_back(end == block_end ? trace_blocks[k] : chain_block(trace_blocks[k], end - k * T));
    if (end == n) break;
  }
  return out;
}

std::unique_ptr<Source> open_trace(const std::string& path, const TraceOptions& options) {
  return std::make_unique<TraceSource>(path, options);
}

std::uint32_t trace_hash_block_size(const std::string& path, const TraceOptions& options) {
  TraceOptions probe = options;
  probe.sort = false;  // nothing past the header is needed
  return TraceSource(path, probe).hash_block_size();
}

std::string detect_trace_format(const std::string& path) {
  LineReader lines(path);
  std::string_view first;
  if (!lines.next(first)) throw InputError(path, 0, "", "the trace is empty");
  return std::string(detect_line(first, path, lines.number()).name);
}

std::vector<std::string> trace_format_names() { return trace_formats().names(); }

std::vector<std::string> trace_writer_names() { return trace_writers().names(); }

void write_trace(Source& source, const std::string& path, const std::string& format, std::uint32_t block_size) {
  const TraceWriterInfo* writer = trace_writers().find(format);
  if (writer == nullptr)
    throw InputError(path, 0, "format",
                     "cannot write trace format \"" + format + "\" (writable: " + join_names(trace_writer_names()) + ")");
  if (block_size == 0) throw InputError(path, 0, "block_size", "expected a block size >= 1 token");
  // Renaming over a device or FIFO would replace it with a regular file.
  check_regular_output(path, "output");
  // A partial file must never look like a complete trace: write aside, rename when done.
  const std::string temp = path + ".partial";
  try {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path, 0, "", "cannot write the trace: " + std::string(std::strerror(errno)));
    writer->write(source, out, block_size);
    out.flush();
    if (!out) throw InputError(path, 0, "", "cannot write the trace (disk full?)");
    out.close();
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) throw InputError(path, 0, "", "cannot write the trace: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

// ----- helpers shared by the formats -------------------------------------------------------

std::uint32_t token_count(std::int64_t value, const std::string& file, long line, std::string_view field) {
  if (value < 0)
    throw InputError(file, line, std::string(field), "expected a non-negative token count, got " + std::to_string(value));
  if (value > std::int64_t{std::numeric_limits<std::uint32_t>::max()})
    throw InputError(file, line, std::string(field), "token count " + std::to_string(value) + " is beyond 2^32-1");
  return static_cast<std::uint32_t>(value);
}

void check_block_count(std::size_t count, std::uint32_t input_tokens, std::uint32_t block_size,
                       const std::string& file, long line, std::string_view field) {
  const std::uint64_t expected = (std::uint64_t{input_tokens} + block_size - 1) / block_size;
  if (count != expected)
    throw InputError(file, line, std::string(field),
                     std::to_string(count) + " hashes for " + std::to_string(input_tokens) + " input tokens; expected " +
                         std::to_string(expected) + " (one per " + std::to_string(block_size) +
                         "-token block; set the trace block size if it differs)");
}

bool csv_header_has(std::string_view header_line, std::initializer_list<std::string_view> columns) {
  const auto names = split_csv(header_line);
  for (const auto column : columns)
    if (csv_column(names, column) < 0) return false;
  return true;
}

int csv_column(std::span<const std::string_view> header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return int(i);
  return -1;
}

double csv_number(std::string_view cell, const std::string& file, long line, std::string_view column) {
  double v = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size() || !std::isfinite(v))
    throw InputError(file, line, std::string(column), "expected a number, got " + echo_cell(cell));
  return v;
}

std::int64_t csv_integer(std::string_view cell, const std::string& file, long line, std::string_view column) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size())
    throw InputError(file, line, std::string(column), "expected an integer, got " + echo_cell(cell));
  return v;
}

std::string echo_cell(std::string_view cell) {
  constexpr std::size_t kShown = 60;
  if (cell.size() <= kShown) return "\"" + std::string(cell) + "\"";
  return "\"" + std::string(cell.substr(0, kShown)) + "...\" (" + std::to_string(cell.size()) + " bytes)";
}

std::string format_double(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

int required_csv_column(std::span<const std::string_view> header, std::string_view name, const std::string& file,
                        long number, std::string_view expected) {
  const int column = csv_column(header, name);
  if (column < 0)
    throw InputError(file, number, std::string(name),
                     "missing column in the header (expected " + std::string(expected) + ")");
  return column;
}

std::vector<std::string_view> split_csv_row(std::string_view line, std::size_t columns, const std::string& file,
                                            long number) {
  auto cells = split_csv(line);
  if (cells.size() != columns)
    throw InputError(file, number, "", "expected " + std::to_string(columns) + " comma-separated columns, got " +
                                           std::to_string(cells.size()));
  return cells;
}

void append_id_list(std::string& line, std::span<const BlockId> ids) {
  char number[24];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ", ";
    const auto [end, ec] = std::to_chars(number, number + sizeof number, ids[i]);
    (void)ec;
    line.append(number, end);
  }
}

DenseBlockIds::DenseBlockIds() : numbers_(std::make_unique<U64Map<std::uint64_t>>()) {}
DenseBlockIds::~DenseBlockIds() = default;

void DenseBlockIds::append(std::string& line, std::span<const BlockId> ids) {
  scratch_.clear();
  for (const BlockId id : ids) {
    numbers_->reserve_more(1);
    const auto [number, inserted] = numbers_->find_or_insert(id);
    if (inserted) *number = numbers_->size() - 1;
    scratch_.push_back(*number);
  }
  append_id_list(line, scratch_);
}

std::uint64_t check_block_count(const Request& request, std::uint32_t block_size) {
  const std::uint64_t count = (std::uint64_t{request.input_tokens} + block_size - 1) / block_size;
  if (!request.blocks.empty() && request.blocks.size() != count)
    throw InputError("", 0, "block_size",
                     "request " + std::to_string(request.id) + " has " + std::to_string(request.blocks.size()) +
                         " blocks for " + std::to_string(request.input_tokens) + " tokens, not " +
                         std::to_string(count) + " of " + std::to_string(block_size) + " tokens");
  return count;
}

std::vector<BlockId> blocks_for_writing(const Request& request, std::uint32_t block_size) {
  const std::uint64_t count = check_block_count(request, block_size);
  if (!request.blocks.empty()) return request.blocks;
  // All blocks unique: a chain seeded by the request id under a salt of its own, so no other
  // request (nor any trace's real hashes, short of a 64-bit collision) shares them.
  constexpr std::uint64_t kUniqueSalt = 0x756e69717565ULL;  // "unique"
  std::vector<BlockId> out;
  out.reserve(count);
  BlockId prefix = chain_block(kUniqueSalt, request.id);
  for (std::uint64_t j = 0; j < count; ++j) out.push_back(prefix = chain_block(prefix, j));
  return out;
}

}  // namespace kvsim::workload
