// Fitting the analytical model's knobs to measured kernels: bounded least squares on
// log(predicted / measured) (every knob in log space, bounds keeping it physical).
#pragma once

#include <string>
#include <vector>

#include "models/compute/calibration/operator_table.hpp"
#include "models/compute/operators.hpp"

namespace kvsim::compute {

struct KnobSpec {
  const char* name;                    // [compute] key
  double AnalyticalParams::*member;
  double lower, upper;                 // physical bounds used by the fit
  bool is_time;                        // seconds (written with a unit) or a plain number
  std::vector<Operator> constrained_by;  // operators whose times depend on it
  // Why a knob the fit never frees (constrained_by empty) has its built-in value: the value's
  // provenance, written next to it in calibration cards. Null for fitted knobs.
  const char* fixed_because = nullptr;
};
const std::vector<KnobSpec>& analytical_knobs();

struct OperatorError {
  std::string op;
  std::size_t rows = 0;
  double median_abs = 0, p90_abs = 0, median_signed = 0;  // percent, (pred − meas) / meas
};

struct FitReport {
  AnalyticalParams params;
  std::vector<std::string> fitted;      // knobs the training rows constrained
  std::vector<std::string> kept;        // knobs left at their start values
  std::size_t train_rows = 0, holdout_rows = 0;
  std::vector<OperatorError> train, holdout;
  int iterations = 0;
  double rms_log_error = 0;             // sqrt(mean of log(pred/meas)²) over training rows
};

// Per-operator errors of `params` on rows (all splits mixed; the caller filters).
std::vector<OperatorError> operator_errors(const std::vector<MeasuredKernel>& rows, const GpuCard& gpu,
                                           const AnalyticalParams& params);

// Fits the knobs constrained by the training rows (split = train) measured on `gpu`, starting
// from `start`; the holdout rows are only evaluated.
FitReport fit_analytical(const std::vector<MeasuredKernel>& rows, const GpuCard& gpu, const AnalyticalParams& start);

}  // namespace kvsim::compute
