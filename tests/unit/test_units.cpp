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
