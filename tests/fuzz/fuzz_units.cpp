// libFuzzer harness: the unit parser (sim/config/units.hpp). Any text, every dimension:
// either a finite value or std::invalid_argument with a message; never a crash, never UB,
// never an infinite or NaN quantity.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "sim/config/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kvsim::config::Dimension;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const Dimension dim : {Dimension::dimensionless, Dimension::time, Dimension::bytes, Dimension::bandwidth,
                              Dimension::flop_rate, Dimension::power}) {
    try {
      const double value = kvsim::config::parse_quantity(text, dim);
      if (!std::isfinite(value)) std::abort();  // callers rely on finite quantities
      (void)kvsim::config::format_quantity(value, dim);
    } catch (const std::invalid_argument& e) {
      if (std::string_view(e.what()).empty()) std::abort();
    }
  }
  return 0;
}
