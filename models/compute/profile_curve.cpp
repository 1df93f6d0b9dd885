#include "models/compute/profile_curve.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvsim::compute {

ProfileCurve::ProfileCurve(std::vector<std::pair<double, double>> points, std::function<double(double)> shape)
    : shape_(std::move(shape)) {
  std::sort(points.begin(), points.end());
  for (std::size_t i = 0; i < points.size();) {
    std::size_t j = i;
    double sum = 0;
    for (; j < points.size() && points[j].first == points[i].first; ++j) sum += points[j].second;
    xs_.push_back(points[i].first);
    ts_.push_back(sum / double(j - i));
    i = j;
  }
}

double ProfileCurve::at(double x) const {
  if (xs_.empty()) throw std::logic_error("profile curve without points");
  auto scaled = [&](std::size_t edge) {
    const double base = shape_(xs_[edge]);
    return base > 0 ? ts_[edge] * shape_(x) / base : ts_[edge];
  };
  if (x <= xs_.front()) return x == xs_.front() ? ts_.front() : scaled(0);
  if (x >= xs_.back()) return x == xs_.back() ? ts_.back() : scaled(xs_.size() - 1);
  const auto hi = std::size_t(std::upper_bound(xs_.begin(), xs_.end(), x) - xs_.begin());
  const std::size_t lo = hi - 1;
  const double w = (x - xs_[lo]) / (xs_[hi] - xs_[lo]);
  return ts_[lo] + w * (ts_[hi] - ts_[lo]);
}

}  // namespace kvsim::compute
