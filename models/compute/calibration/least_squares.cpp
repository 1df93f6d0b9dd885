#include "models/compute/calibration/least_squares.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kvsim::compute {

namespace {

double half_sum_squares(const std::vector<double>& r) {
  double s = 0;
  for (double v : r) s += v * v;
  return 0.5 * s;
}

// Solves A·x = b for a small symmetric positive definite A by Cholesky; false if A is not.
bool cholesky_solve(std::vector<double> a, std::vector<double> b, std::size_t n, std::vector<double>& x) {
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {  // L·y = b
    double s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  x.assign(n, 0.0);
  for (std::size_t i = n; i-- > 0;) {  // Lᵀ·x = y
    double s = b[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * x[k];
    x[i] = s / a[i * n + i];
  }
  return true;
}

}  // namespace

BoxSolution solve_box_least_squares(const BoxProblem& problem, std::vector<double> x, int max_iterations) {
  const std::size_t n = x.size();
  if (problem.lower.size() != n || problem.upper.size() != n)
    throw std::invalid_argument("least squares: bounds and start point differ in size");
  for (std::size_t j = 0; j < n; ++j) x[j] = std::clamp(x[j], problem.lower[j], problem.upper[j]);
  std::vector<double> r, r_try, r_step;
  problem.residuals(x, r);
  double cost = half_sum_squares(r);
  double lambda = 1e-3;
  BoxSolution out;
  std::vector<double> jac, jtj(n * n), grad(n), delta, x_try(n);
  for (int it = 0; it < max_iterations; ++it) {
    out.iterations = it + 1;
    const std::size_t m = r.size();
    // Finite-difference Jacobian, stepping away from the nearer bound.
    jac.assign(m * n, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      const double width = problem.upper[j] - problem.lower[j];
      if (width <= 0) continue;
      double h = 1e-6 * std::max(1.0, std::fabs(x[j]));
      if (x[j] + h > problem.upper[j]) h = -h;
      std::vector<double> xs = x;
      xs[j] += h;
      problem.residuals(xs, r_step);
      for (std::size_t i = 0; i < m; ++i) jac[i * n + j] = (r_step[i] - r[i]) / h;
    }
    std::fill(jtj.begin(), jtj.end(), 0.0);
    std::fill(grad.begin(), grad.end(), 0.0);
    for (std::size_t i = 0; i < m; ++i) {
      const double* row = &jac[i * n];
      for (std::size_t a = 0; a < n; ++a) {
        grad[a] += row[a] * r[i];
        for (std::size_t b = 0; b <= a; ++b) jtj[a * n + b] += row[a] * row[b];
      }
    }
    // Variables at a bound whose gradient pushes outward stay there this iteration.
    std::vector<std::size_t> free;
    for (std::size_t j = 0; j < n; ++j) {
      const bool at_lower = x[j] <= problem.lower[j] && grad[j] > 0;
      const bool at_upper = x[j] >= problem.upper[j] && grad[j] < 0;
      if (!at_lower && !at_upper && problem.upper[j] > problem.lower[j] && jtj[j * n + j] > 0) free.push_back(j);
    }
    double projected_gradient = 0;
    for (std::size_t j : free) projected_gradient = std::max(projected_gradient, std::fabs(grad[j]));
    if (free.empty() || projected_gradient <= 1e-14 * std::max(1.0, cost)) {
      out.converged = true;
      break;
    }
    bool improved = false;
    while (lambda < 1e12) {
      const std::size_t k = free.size();
      std::vector<double> a(k * k), b(k);
      for (std::size_t p = 0; p < k; ++p) {
        for (std::size_t q = 0; q < k; ++q) {
          const std::size_t hi = std::max(free[p], free[q]), lo = std::min(free[p], free[q]);
          a[p * k + q] = jtj[hi * n + lo];
        }
        a[p * k + p] *= 1.0 + lambda;
        b[p] = -grad[free[p]];
      }
      if (cholesky_solve(a, b, k, delta)) {
        x_try = x;
        for (std::size_t p = 0; p < k; ++p)
          x_try[free[p]] = std::clamp(x[free[p]] + delta[p], problem.lower[free[p]], problem.upper[free[p]]);
        problem.residuals(x_try, r_try);
        const double cost_try = half_sum_squares(r_try);
        if (std::isfinite(cost_try) && cost_try < cost) {
          const double gain = cost - cost_try;
          x.swap(x_try);
          r.swap(r_try);
          cost = cost_try;
          lambda = std::max(lambda / 3.0, 1e-12);
          improved = true;
          if (gain <= 1e-15 * std::max(cost, 1e-300) + 1e-30) out.converged = true;
          break;
        }
      }
      lambda *= 4.0;
    }
    if (!improved) {
      out.converged = true;  // no descent left at any damping: a (bounded) minimum
      break;
    }
    if (out.converged) break;
  }
  out.x = x;
  out.cost = cost;
  return out;
}

}  // namespace kvsim::compute
