// Bounded nonlinear least squares: minimise ½·Σ r_i(x)² subject to lower ≤ x ≤ upper, by a
// projected Levenberg–Marquardt method (Levenberg 1944, Marquardt 1963): each step solves
// (JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀr over the variables not pinned at a bound by their gradient,
// clamps x + δ into the box, and accepts it only if the cost falls (λ shrinks) or else
// retries with a larger λ. The Jacobian is taken by one-sided finite differences that stay
// inside the box. Small dense problems only (a few dozen variables).
#pragma once

#include <functional>
#include <vector>

namespace kvsim::compute {

struct BoxProblem {
  std::vector<double> lower, upper;  // bounds per variable (lower ≤ upper)
  // Fills r (resized by the callee) with the residuals at x.
  std::function<void(const std::vector<double>& x, std::vector<double>& r)> residuals;
};

struct BoxSolution {
  std::vector<double> x;
  double cost = 0;      // ½·Σ r²
  int iterations = 0;
  bool converged = false;
};

BoxSolution solve_box_least_squares(const BoxProblem& problem, std::vector<double> x0, int max_iterations = 300);

}  // namespace kvsim::compute
