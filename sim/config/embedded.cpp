#include "sim/config/embedded.hpp"

namespace kvsim::config {

const EmbeddedFile* find_embedded(std::string_view kind, std::string_view name) {
  for (const auto& file : embedded_files())
    if (file.kind == kind && file.name == name) return &file;
  return nullptr;
}

}  // namespace kvsim::config
