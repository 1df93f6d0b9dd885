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

// Human-readable rendering with a decimal prefix ("3.35 TB/s", "80 GB", "2 ms").
std::string format_quantity(double value, Dimension dim);

}  // namespace kvsim::config
