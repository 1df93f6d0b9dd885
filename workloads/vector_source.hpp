// A Source over requests held in memory (tests, tools, and readers that must sort).
#pragma once

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "workloads/request.hpp"

namespace kvsim::workload {

class VectorSource final : public Source {
 public:
  explicit VectorSource(std::vector<Request> requests, std::vector<std::string> categories = {"default"})
      : requests_(std::move(requests)), categories_(std::move(categories)) {
    if (!std::is_sorted(requests_.begin(), requests_.end(),
                        [](const Request& a, const Request& b) { return a.arrival < b.arrival; }))
      throw std::invalid_argument("VectorSource: requests must be in non-decreasing arrival order");
  }
  std::optional<Request> next() override {
    if (next_ == requests_.size()) return std::nullopt;
    return requests_[next_++];
  }
  std::uint64_t expected_count() const override { return requests_.size(); }
  const std::vector<std::string>& categories() const override { return categories_; }

 private:
  std::vector<Request> requests_;
  std::vector<std::string> categories_;
  std::size_t next_ = 0;
};

}  // namespace kvsim::workload
