// Reuse-time model of request categories for the workload-aware policies (wa, wa-online),
// after the Alibaba Bailian KV$ study (Wang et al., "KVCache cache in the wild:
// characterizing and optimizing KVCache cache at a large cloud provider", USENIX ATC'25):
// per category w (request type x turn), the time until a block is reused is exponential
// with rate lambda_w, and a block access is followed by a reuse with probability p_w, so
//   P(reuse within t of the last access) = p_w * (1 - exp(-lambda_w * t)).
//
// Statistics (`kvsim trace profile` takes them from the trace analysis of `kvsim trace
// stats`, workloads/analysis/trace_stats.hpp; wa-online accumulates the same ones):
//   * a block touched by a request of category w takes category w;
//   * every block access by a request of category w counts one access of w;
//   * when a block is touched again, the time since its last touch is a reuse-time sample,
//     and one hit, of the category that last touched it; re-touches within
//     kSamePromptWindow (0.3 s) are the same prompt being processed, not a reuse, and are
//     ignored (neither sample nor hit; the block's last-touch time still moves);
//   * lambda_w = 1 / (mean - min) of the samples (an exponential shifted by the minimum),
//     unknown (0) with fewer than two samples or when all are equal;
//   * p_w = hits of w / accesses of w.
// The profile file format is documented in models/kvcache/eviction/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvsim::kvcache::eviction {

inline constexpr double kSamePromptWindow = 0.3;  // s

struct CategoryModel {
  double lambda = 0;  // 1/s; 0 = unknown
  double p = 0;       // reuse probability per block access
  std::uint64_t samples = 0;
};

struct WaProfile {
  std::string source;  // file it was read from (messages)
  std::map<std::string, CategoryModel> categories;
};

// Reads a profile written by `kvsim trace profile`; any malformed or unknown entry is an
// InputError naming the file, line and key.
WaProfile read_wa_profile(const std::string& path);

// One category of a profile file, with the figures it was fitted from.
struct ProfileEntry {
  std::string name;
  CategoryModel model;  // lambda 0 = unknown (not written)
  std::uint64_t accesses = 0, hits = 0;
  double mean_reuse_time = 0, min_reuse_time = 0;  // s, over the samples
};
struct ProfileHeader {
  std::string trace;
  double until = 0;  // s
  std::uint32_t block_size = 0;
  std::string command_line;
};
// Writes to a temporary name and renames (InputError when the path is unwritable).
void write_wa_profile(const std::string& path, const ProfileHeader& header, const std::vector<ProfileEntry>& entries);

}  // namespace kvsim::kvcache::eviction
