// Physical quantities in config files (sim/config/units.hpp): known answers for every
// dimension and prefix family, rejection of wrong units with messages that say what was
// expected, and the human-readable rendering used in messages and `kvsim describe`.
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "sim/config/units.hpp"

using kvsim::config::Dimension;
using kvsim::config::format_quantity;
using kvsim::config::parse_quantity;

namespace {

// The message of the std::invalid_argument that parsing text as dim throws ("" if none).
std::string rejection(const char* text, Dimension dim) {
  try {
    (void)parse_quantity(text, dim);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("units: sizes use decimal and binary prefixes") {
  // 80 * 2^30 = 85'899'345'920; 80 * 10^9 = 8e10.
  CHECK(parse_quantity("80GiB", Dimension::bytes) == 85899345920.0);
  CHECK(parse_quantity("80GB", Dimension::bytes) == 8e10);
  CHECK(parse_quantity("4KiB", Dimension::bytes) == 4096.0);
  CHECK(parse_quantity("2TiB", Dimension::bytes) == 2199023255552.0);
  CHECK(parse_quantity("1.5MB", Dimension::bytes) == 1.5e6);
  CHECK(parse_quantity("512", Dimension::bytes) == 512.0);  // bare numbers are SI (bytes)
  CHECK(parse_quantity(" 80 GiB ", Dimension::bytes) == 85899345920.0);
}

TEST_CASE("units: bandwidths in bytes and bits per second") {
  CHECK(parse_quantity("3.35TB/s", Dimension::bandwidth) == doctest::Approx(3.35e12).epsilon(1e-15));
  CHECK(parse_quantity("900GB/s", Dimension::bandwidth) == 9e11);
  CHECK(parse_quantity("64GBps", Dimension::bandwidth) == 6.4e10);
  // Bits: 100 Gbit/s = 12.5 GB/s.
  CHECK(parse_quantity("100Gbps", Dimension::bandwidth) == 12.5e9);
  CHECK(parse_quantity("400Gb/s", Dimension::bandwidth) == 50e9);
  CHECK(parse_quantity("1GiB/s", Dimension::bandwidth) == 1073741824.0);
}

TEST_CASE("units: durations from nanoseconds to days") {
  CHECK(parse_quantity("2us", Dimension::time) == 2e-6);
  CHECK(parse_quantity("2ms", Dimension::time) == 2e-3);
  CHECK(parse_quantity("500ns", Dimension::time) == doctest::Approx(5e-7).epsilon(1e-15));
  CHECK(parse_quantity("30s", Dimension::time) == 30.0);
  CHECK(parse_quantity("1.5h", Dimension::time) == 5400.0);
  CHECK(parse_quantity("90min", Dimension::time) == 5400.0);
  CHECK(parse_quantity("1d", Dimension::time) == 86400.0);
  CHECK(parse_quantity("0.25", Dimension::time) == 0.25);
}

TEST_CASE("units: compute rates powers and plain numbers") {
  CHECK(parse_quantity("989TFLOPS", Dimension::flop_rate) == 9.89e14);
  CHECK(parse_quantity("312TFLOP/s", Dimension::flop_rate) == 3.12e14);
  CHECK(parse_quantity("700W", Dimension::power) == 700.0);
  CHECK(parse_quantity("1.2kW", Dimension::power) == 1200.0);
  CHECK(parse_quantity("10k", Dimension::dimensionless) == 10000.0);
  CHECK(parse_quantity("2M", Dimension::dimensionless) == 2e6);
  CHECK(parse_quantity("42", Dimension::dimensionless) == 42.0);
  CHECK(parse_quantity("-1.5", Dimension::dimensionless) == -1.5);
}

TEST_CASE("units: wrong units are rejected naming the expected dimension") {
  const std::string as_time = rejection("80GiB", Dimension::time);
  CHECK(as_time.find("a duration") != std::string::npos);
  CHECK(as_time.find("\"2ms\"") != std::string::npos);  // the example of a valid value
  CHECK(as_time.find("GiB") != std::string::npos);      // and the offending unit

  const std::string parsecs = rejection("3 parsecs", Dimension::bytes);
  CHECK(parsecs.find("a size in bytes") != std::string::npos);
  CHECK(parsecs.find("parsecs") != std::string::npos);

  CHECK(rejection("2s", Dimension::bandwidth).find("a bandwidth") != std::string::npos);
  CHECK(rejection("700W", Dimension::flop_rate).find("a compute rate") != std::string::npos);
  CHECK(rejection("3GB", Dimension::power).find("a power") != std::string::npos);
  CHECK(rejection("fast", Dimension::time).find("a duration") != std::string::npos);
  CHECK(rejection("", Dimension::bytes).find("a size in bytes") != std::string::npos);
  // Binary prefixes only make sense for sizes; milli is not a size prefix.
  CHECK_FALSE(rejection("10Ki", Dimension::dimensionless).empty());
  CHECK_FALSE(rejection("2mB", Dimension::bytes).empty());
  CHECK_FALSE(rejection("1GiFLOPS", Dimension::flop_rate).empty());
}

TEST_CASE("units: dimension names SI units and examples") {
  CHECK(kvsim::config::dimension_name(Dimension::time) == "a duration");
  CHECK(kvsim::config::si_unit(Dimension::bandwidth) == "B/s");
  CHECK(kvsim::config::si_unit(Dimension::flop_rate) == "FLOP/s");
  CHECK(kvsim::config::si_unit(Dimension::dimensionless).empty());
  // Each example must itself parse in its own dimension.
  for (Dimension d : {Dimension::dimensionless, Dimension::time, Dimension::bytes, Dimension::bandwidth,
                      Dimension::flop_rate, Dimension::power}) {
    CAPTURE(kvsim::config::dimension_name(d));
    CHECK_NOTHROW((void)parse_quantity(kvsim::config::example_value(d), d));
  }
}

TEST_CASE("units: format_quantity renders with a decimal prefix") {
  CHECK(format_quantity(3.35e12, Dimension::bandwidth) == "3.35 TB/s");
  CHECK(format_quantity(8e10, Dimension::bytes) == "80 GB");
  CHECK(format_quantity(85899345920.0, Dimension::bytes) == "85.9 GB");
  CHECK(format_quantity(9.89e14, Dimension::flop_rate) == "989 TFLOP/s");
  CHECK(format_quantity(700, Dimension::power) == "700 W");
  CHECK(format_quantity(0, Dimension::bytes) == "0 B");
  CHECK(format_quantity(0.002, Dimension::time) == "2 ms");
  CHECK(format_quantity(2e-6, Dimension::time) == "2 us");
  CHECK(format_quantity(5400, Dimension::time) == "5400 s");
  CHECK(format_quantity(0, Dimension::time) == "0 s");
}

TEST_CASE("units: a quantity that overflows to infinity is rejected, not returned") {
  // 1e300 * 1e15 is beyond the largest double.
  CHECK(rejection("1e300PB", Dimension::bytes).find("too large") != std::string::npos);
  CHECK(rejection("1e308TB/s", Dimension::bandwidth).find("too large") != std::string::npos);
  CHECK_NOTHROW(parse_quantity("1e290PB", Dimension::bytes));
}

TEST_CASE("units: shortest round-trip numbers and binary sizes") {
  using kvsim::config::binary_size_text;
  using kvsim::config::shortest_number;
  CHECK(shortest_number(0.9) == "0.9");
  CHECK(shortest_number(0.6) == "0.6");
  CHECK(shortest_number(5e-6) == "5e-06");
  CHECK(shortest_number(3.35e12) == "3.35e+12");  // shorter than 3350000000000
  CHECK(shortest_number(1234567.0) == "1234567");
  CHECK(shortest_number(0.1 + 0.2) == "0.30000000000000004");
  // 80 x 2^30, 2^30, 2^20 and 3 x 2^10 bytes; 80e9 is no whole binary unit.
  CHECK(binary_size_text(85899345920.0) == "80GiB");
  CHECK(binary_size_text(1073741824.0) == "1GiB");
  CHECK(binary_size_text(1048576.0) == "1MiB");
  CHECK(binary_size_text(3072.0) == "3KiB");
  CHECK(binary_size_text(1536.0 * 1073741824.0) == "1536GiB");  // 1.5 TiB: one unit down
  CHECK(binary_size_text(1537.0 * 1048576.0) == "1537MiB");
  CHECK(binary_size_text(1073741824.0 + 1024.0).empty());  // 1 GiB + 1 KiB: two units down
  CHECK(binary_size_text(80e9).empty());
  CHECK(binary_size_text(0).empty());
  CHECK(binary_size_text(512).empty());
}

TEST_CASE("units: floors of bare numbers for sizes, bandwidths and compute rates") {
  using kvsim::config::bare_number_floor;
  using kvsim::config::likely_unit;
  CHECK(bare_number_floor(Dimension::bytes) == 1048576.0);
  CHECK(bare_number_floor(Dimension::bandwidth) == 1e6);
  CHECK(bare_number_floor(Dimension::flop_rate) == 1e9);
  CHECK(bare_number_floor(Dimension::time) == 0);
  CHECK(bare_number_floor(Dimension::power) == 0);
  CHECK(likely_unit(Dimension::bytes) == "GiB");
}

TEST_CASE("units: sub-second durations are the doubles nearest to their decimal value") {
  // 5 * 1e-6 is one ulp above 5e-6; dividing by 10^6 rounds once, like the literal.
  CHECK(parse_quantity("5us", Dimension::time) == 5e-6);
  CHECK(parse_quantity("3ns", Dimension::time) == 3e-9);
  CHECK(parse_quantity("7ms", Dimension::time) == 7e-3);
  CHECK(parse_quantity("1.5h", Dimension::time) == 5400.0);
}
