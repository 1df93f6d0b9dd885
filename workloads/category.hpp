// Request categories as the Bailian study (ATC'25) uses them: request type × turn, e.g.
// "text_1", "file_2". Reuse-time statistics (`kvsim trace stats`) and the workload-aware
// eviction policy (`wa`) are keyed by it. Turns from kTurnCap on share one category
// ("text_5+"), so late turns, which are rare, still get enough samples to fit.
#pragma once

#include <cstdint>
#include <string>

namespace kvsim::workload {

inline constexpr std::uint32_t kTurnCap = 5;

inline std::string category_name(const std::string& type, std::uint32_t turn) {
  if (turn >= kTurnCap) return type + "_" + std::to_string(kTurnCap) + "+";
  return type + "_" + std::to_string(turn == 0 ? 1 : turn);
}

}  // namespace kvsim::workload
