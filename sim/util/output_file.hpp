// Checks shared by every writer that writes a temporary file beside its output and renames
// it into place (results, traces, profiles).
#pragma once

#include <string>

namespace kvsim {

// Throws an InputError(path, 0, field, ...) when path exists and is not a regular file (a
// directory, a device such as /dev/null, a FIFO, a socket). Renaming a temporary file over
// such a path would replace it with a regular file: as root, `-o /dev/null` would delete
// the device node. A missing path, or a symbolic link to a regular file, passes.
void check_regular_output(const std::string& path, const std::string& field);

}  // namespace kvsim
