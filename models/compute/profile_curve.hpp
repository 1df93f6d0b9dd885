// A measured time as a function of one coordinate (tokens, message bytes, attention pairs,
// sequences): piecewise-linear between measured points, and outside them the measured edge
// scaled by a model's shape, shape(x) / shape(edge), so extrapolation follows the analytical
// model's growth instead of a straight line.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace kvsim::compute {

class ProfileCurve {
 public:
  // points: (coordinate, seconds), any order; equal coordinates are averaged.
  ProfileCurve(std::vector<std::pair<double, double>> points, std::function<double(double)> shape);
  double at(double x) const;
  bool inside(double x) const { return !xs_.empty() && x >= xs_.front() && x <= xs_.back(); }
  bool empty() const { return xs_.empty(); }
  double lowest() const { return xs_.front(); }
  double highest() const { return xs_.back(); }

 private:
  std::vector<double> xs_, ts_;
  std::function<double(double)> shape_;
};

}  // namespace kvsim::compute
