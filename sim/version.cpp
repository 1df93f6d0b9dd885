#include "sim/version.hpp"

#include <xbt/base.h>  // version.h relies on its macros
#include <simgrid/version.h>

namespace kvsim {

std::string version() { return KVSIM_VERSION; }
std::string git_revision() { return KVSIM_GIT_REVISION; }

std::string simgrid_version() {
  int major = 0, minor = 0, patch = 0;
  sg_version_get(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace kvsim
