// Azure LLM inference traces 2023 and 2024 (Azure Public Dataset; Patel et al., "Splitwise",
// ISCA'24; Stojkovic et al., "DynamoLLM", HPCA'25): CSV with the header
//   TIMESTAMP,ContextTokens,GeneratedTokens
// (other columns are ignored) and rows such as "2023-11-16 18:15:46.6805900,374,44".
// TIMESTAMP is a UTC date and time "YYYY-MM-DD HH:MM:SS[.fraction]" (up to 9 fractional
// digits; the traces use 7), read as seconds after the first data row, exactly to the
// nanosecond across midnights, months and years; years 1970-2200 (64-bit nanoseconds). The traces carry no hashes (every block
// unique) and no sessions: ids in file order from 0, each request its own session,
// category "azure".
#include <array>

#include "sim/util/error.hpp"
#include "workloads/readers/format.hpp"

namespace kvsim::workload {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kFirstYear = 1970, kLastYear = 2200;

bool leap(std::int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days from 1970-01-01 to year-month-day (proleptic Gregorian, year >= 1).
std::int64_t days_since_epoch(std::int64_t year, int month, int day) {
  static constexpr std::array<int, 12> before_month{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const auto leaps_before = [](std::int64_t y) { return (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400; };
  return (year - 1970) * 365 + leaps_before(year) - leaps_before(1970) + before_month[std::size_t(month - 1)] +
         (month > 2 && leap(year) ? 1 : 0) + (day - 1);
}

// Nanoseconds since the epoch of "YYYY-MM-DD HH:MM:SS[.f]" (a 'T' separator is accepted).
std::int64_t parse_datetime(std::string_view s, const std::string& file, long line) {
  std::size_t i = 0;
  auto fail = [&]() -> std::int64_t {
    throw InputError(file, line, "TIMESTAMP",
                     "expected a date and time \"YYYY-MM-DD HH:MM:SS[.fraction]\", got " + echo_cell(s));
  };
  auto digits = [&](std::size_t n, std::int64_t& out) {
    out = 0;
    for (std::size_t k = 0; k < n; ++k, ++i) {
      if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  auto expect = [&](char c) { return i < s.size() && s[i++] == c; };
  std::int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day)) return fail();
  if (i >= s.size() || (s[i] != ' ' && s[i] != 'T')) return fail();
  ++i;
  if (!digits(2, hour) || !expect(':') || !digits(2, minute) || !expect(':') || !digits(2, second)) return fail();
  std::int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::int64_t scale = kNanosPerSecond;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start == 9) return fail();  // finer than a nanosecond
      scale /= 10;
      nanos += (s[i] - '0') * scale;
      ++i;
    }
    if (i == start) return fail();
  }
  if (i != s.size()) return fail();
  static constexpr std::array<int, 12> month_days{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // Nanoseconds since 1970 in 64 bits reach 2262; within 1970-2200 every difference of two
  // times fits too (the reader subtracts the first row's time), so nothing can wrap.
  if (year < kFirstYear || year > kLastYear)
    throw InputError(file, line, "TIMESTAMP",
                     "year " + std::to_string(year) + " is outside " + std::to_string(kFirstYear) + "-" +
                         std::to_string(kLastYear) + " (times are kept to the nanosecond in 64 bits)");
  if (month < 1 || month > 12 || day < 1 || day > month_days[std::size_t(month - 1)] ||
      (month == 2 && day == 29 && !leap(year)) || hour > 23 || minute > 59 || second > 59)
    return fail();
  const std::int64_t seconds = days_since_epoch(year, int(month), int(day)) * 86400 + hour * 3600 + minute * 60 + second;
  return seconds * kNanosPerSecond + nanos;
}

class AzureParser final : public FormatParser {
 public:
  bool header(std::string_view line, long number) override {
    const auto names = split_csv(line);
    constexpr std::string_view expected = "TIMESTAMP,ContextTokens,GeneratedTokens";
    time_ = required_csv_column(names, "TIMESTAMP", file, number, expected);
    input_ = required_csv_column(names, "ContextTokens", file, number, expected);
    output_ = required_csv_column(names, "GeneratedTokens", file, number, expected);
    columns_ = names.size();
    return true;
  }

  void parse(std::string_view line, long number, TraceRecord& r) override {
    const auto cells = split_csv_row(line, columns_, file, number);
    const std::int64_t t = parse_datetime(cells[std::size_t(time_)], file, number);
    r.input_tokens =
        token_count(csv_integer(cells[std::size_t(input_)], file, number, "ContextTokens"), file, number, "ContextTokens");
    r.output_tokens = token_count(csv_integer(cells[std::size_t(output_)], file, number, "GeneratedTokens"), file,
                                  number, "GeneratedTokens");
    if (!have_origin_) {
      origin_ = t;
      have_origin_ = true;
    }
    r.time = double(t - origin_) / double(kNanosPerSecond);
    r.type = "azure";
  }

  std::string_view time_field() const override { return "TIMESTAMP"; }

 private:
  int time_ = 0, input_ = 1, output_ = 2;
  std::size_t columns_ = 3;
  bool have_origin_ = false;
  std::int64_t origin_ = 0;
};

}  // namespace

bool detect_azure(std::string_view first_line) {
  return csv_header_has(first_line, {"TIMESTAMP", "ContextTokens", "GeneratedTokens"});
}

std::unique_ptr<FormatParser> open_azure(const std::string&) { return std::make_unique<AzureParser>(); }

}  // namespace kvsim::workload
