#include "sim/util/error.hpp"

namespace kvsim {

namespace {
std::string format_location(const std::string& file, long line, const std::string& field,
                            const std::string& message) {
  // Built with append() rather than operator+ chains, which trip GCC 12's -Wrestrict.
  std::string text = file;
  if (line > 0) text.append(":").append(std::to_string(line));
  if (!field.empty()) {
    if (!text.empty()) text.append(": ");
    text.append(field);
  }
  if (!text.empty()) text.append(": ");
  return text.append(message);
}
}  // namespace

InputError::InputError(std::string file, long line, std::string field, const std::string& message)
    : std::runtime_error(format_location(file, line, field, message)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)) {}

}  // namespace kvsim
