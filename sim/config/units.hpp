// Physical quantities in config files. Internally everything is SI (seconds, bytes,
// bytes/s, FLOP/s, watts); config values may be bare numbers (already SI) or strings with
// a unit: "80GiB", "3.35TB/s", "900GB/s", "100Gbps", "2us", "1.5h", "989TFLOPS", "700W".
// Decimal prefixes (k M G T P) are powers of 1000, binary ones (Ki Mi Gi Ti) powers of 1024.
#pragma once

#include <string>
#include <string_view>

namespace kvsim::config {

enum class Dimension {
  dimensionless,  // plain number, optional k/M/G suffix ("10k" = 10000)
  time,           // seconds
  bytes,          // bytes
  bandwidth,      // bytes per second ("Gbps"/"Gb/s" are bits and divided by 8)
  flop_rate,      // FLOP per second
  power,          // watts
};

// Parses text as a quantity of the given dimension. Throws std::invalid_argument with a
// message that says what was expected (e.g. "expected a duration such as \"2ms\"").
double parse_quantity(std::string_view text, Dimension dim);

// "duration", "size in bytes", ... for messages.
std::string_view dimension_name(Dimension dim);
// SI unit symbol used in documentation and results ("s", "B", "B/s", "FLOP/s", "W", "").
std::string_view si_unit(Dimension dim);
// An example value for messages ("2ms", "80GiB", ...).
std::string_view example_value(Dimension dim);

// The smallest bare number (no unit, so SI) accepted for a quantity of a dimension whose
// real values are never that small: sizes (1 MiB), bandwidths (1 MB/s) and compute rates
// (1 GFLOP/s). Below it a bare number is far more likely a forgotten unit ("capacity = 256"
// meant as 256 GiB). 0 for dimensions where small bare numbers are normal (durations in
// seconds, watts, plain numbers).
double bare_number_floor(Dimension dim);
// The unit a forgotten one most likely was, for messages: "GiB", "GB/s", "TFLOPS" ("" when
// bare_number_floor is 0).
std::string_view likely_unit(Dimension dim);

// Shortest decimal text that reads back as exactly value (std::to_chars), e.g. "0.9",
// "5e-06", "3.35e+12".
std::string shortest_number(double value);

// A size as a whole number of the largest binary unit dividing it ("80GiB", "1MiB"), or ""
// when it is not a positive multiple of 1 KiB.
std::string binary_size_text(double bytes);

// Human-readable rendering with a decimal prefix ("3.35 TB/s", "80 GB", "2 ms").
std::string format_quantity(double value, Dimension dim);

}  // namespace kvsim::config
