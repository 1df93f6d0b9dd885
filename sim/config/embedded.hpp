// Card and scenario files compiled into the binary (see platforms/CMakeLists.txt).
#pragma once

#include <span>
#include <string_view>

namespace kvsim::config {

struct EmbeddedFile {
  std::string_view kind;  // "gpu", "node", "llm", "scenario", "workload"
  std::string_view name;  // file name without extension, e.g. "h100-sxm"
  std::string_view path;  // path in the source tree, used in error messages
  std::string_view text;  // file contents
};

std::span<const EmbeddedFile> embedded_files();

// The embedded file of that kind and name, or nullptr.
const EmbeddedFile* find_embedded(std::string_view kind, std::string_view name);

}  // namespace kvsim::config
