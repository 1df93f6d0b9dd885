// Build identity, recorded in every results file.
#pragma once

#include <string>

namespace kvsim {

std::string version();        // kvsim's version ("0.1.0")
std::string git_revision();   // revision the build was configured from, or "unknown"
std::string simgrid_version();  // runtime SimGrid library version ("3.32.0")

}  // namespace kvsim
