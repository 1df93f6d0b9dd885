#include "sim/util/output_file.hpp"

#include <filesystem>
#include <system_error>

#include "sim/util/error.hpp"

namespace kvsim {

namespace {

const char* kind_of(std::filesystem::file_type type) {
  using std::filesystem::file_type;
  switch (type) {
    case file_type::directory: return "a directory";
    case file_type::character: return "a character device";
    case file_type::block: return "a block device";
    case file_type::fifo: return "a FIFO";
    case file_type::socket: return "a socket";
    default: return "a special file";
  }
}

}  // namespace

void check_regular_output(const std::string& path, const std::string& field) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);  // follows symbolic links
  if (ec || !fs::exists(status) || fs::is_regular_file(status)) return;
  if (fs::is_directory(status)) throw InputError(path, 0, field, "is a directory, expected a file name");
  throw InputError(path, 0, field,
                   std::string("is ") + kind_of(status.type()) +
                       ", not a regular file; kvsim writes a complete file under a temporary name and renames "
                       "it into place, which would replace it, so give the path of a regular file");
}

}  // namespace kvsim
