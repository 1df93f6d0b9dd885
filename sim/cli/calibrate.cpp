// kvsim calibrate: fits the analytical step-time model to measured kernel tables and writes
// calibration cards (fit), predicts a table's rows with a calibration (predict, used by
// tools/validate_compute), and converts Vidur profiles into kvsim's table schema (import).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "models/compute/calibration/fit.hpp"
#include "models/compute/calibration/operator_table.hpp"
#include "models/compute/calibration/vidur_import.hpp"
#include "sim/util/text.hpp"
#include "sim/cli/command.hpp"
#include "sim/config/scenario.hpp"
#include "sim/util/error.hpp"

namespace kvsim::cli {

extern const char* const kCalibrateFitHelp;
const char* const kCalibrateFitHelp = R"(Usage: kvsim calibrate fit TABLE... --gpu GPU [-o CARD.toml] [--start CARD] [--json]

Fits the analytical step-time model's knobs to the rows of the measured-operator TABLEs
(kvsim's schema, models/compute/calibration/README.md) measured on GPU, by bounded least
squares on log(predicted / measured): efficiencies stay in (0, 1], floors and latencies
positive. Only rows with split = train are fitted; rows with split = holdout are predicted
and their errors reported. Knobs no training row depends on keep their start values (the
built-in defaults, or those of --start). Prints the fitted values with the per-operator
median / p90 absolute error and signed bias on both splits, and writes a calibration card
that a scenario names with `[compute] calibration = "CARD.toml"`.

Options:
  --gpu GPU            GPU card (name or path) whose rows are fitted and whose peaks are used
  -o, --output PATH    calibration card to write
  --start CARD         start from this calibration card (name or path) instead of the defaults
  --json               print the fitted values and errors as JSON on stdout
  -h, --help           this help

Exit status: 0 on success, 2 on invalid input (tables, options), 1 on internal errors.
)";

extern const char* const kCalibratePredictHelp;
const char* const kCalibratePredictHelp = R"(Usage: kvsim calibrate predict TABLE -o OUT.csv [--calibration CARD] [--set KEY=VALUE]...

Writes TABLE's rows with one more column, predicted_us: the analytical model's time of each
row's kernel on the row's GPU card with that card's calibration (or --calibration CARD for
every row; --set overrides [compute] knobs, e.g. --set compute.gemm_floor=5us).
tools/validate_compute turns the result into error tables.

Options:
  -o, --output PATH    CSV to write ("-" = stdout)
  --calibration CARD   calibration card (name or path) for every row
  --set KEY=VALUE      scenario override applied when resolving each GPU's knobs
  -h, --help           this help
)";

extern const char* const kCalibrateImportHelp;
const char* const kCalibrateImportHelp = R"(Usage: kvsim calibrate import VIDUR.csv... --gpu GPU [--model NAME] -o OUT.csv

Converts Vidur profiling CSVs (compute/<gpu>/<model>.mlp.csv, attention.csv,
network/<node>/all_reduce.csv; the kind is read from the header) into kvsim's
measured-operator schema (models/compute/calibration/README.md): medians in microseconds,
every row split = train. All-reduces spanning nodes are skipped and counted on stderr.
The result feeds `kvsim calibrate fit` and `kvsim calibrate predict`.

Options:
  --gpu GPU            GPU card name the profiles were measured on (e.g. a100-80gb)
  --model NAME         model name written in the rows (informational)
  -o, --output PATH    CSV to write ("-" = stdout)
  -h, --help           this help
)";

namespace {

config::Scenario scenario_for_gpu(const std::string& gpu, const std::optional<std::string>& calibration,
                                  const std::vector<std::string>& sets = {}) {
  config::LoadOptions options;
  options.overrides = {"platform.gpu=" + gpu, "output.path="};
  if (calibration) options.overrides.push_back("compute.calibration=" + *calibration);
  for (const auto& s : sets) options.overrides.push_back(s);
  return config::load_scenario(options);
}

std::string number(double v, int digits = 6) {
  std::ostringstream out;
  out << std::setprecision(digits) << v;
  return out.str();
}

std::string knob_value(const compute::KnobSpec& knob, double v) {
  if (!knob.is_time) return number(v);
  return "\"" + number(v * 1e6) + "us\"";
}

void print_errors(std::ostream& out, const char* title, const std::vector<compute::OperatorError>& errors) {
  out << title << "\n  operator        rows  median|err|%  p90|err|%  bias%\n";
  for (const auto& e : errors)
    out << "  " << std::left << std::setw(14) << e.op << std::right << std::setw(6) << e.rows << std::fixed
        << std::setprecision(1) << std::setw(14) << e.median_abs << std::setw(11) << e.p90_abs << std::setw(7)
        << e.median_signed << std::defaultfloat << "\n";
}

std::string errors_json(const std::vector<compute::OperatorError>& errors) {
  std::string out = "[";
  for (const auto& e : errors) {
    if (out.size() > 1) out += ",";
    out += "{\"operator\":\"" + e.op + "\",\"rows\":" + std::to_string(e.rows) + ",\"median_abs_pct\":" +
           number(e.median_abs) + ",\"p90_abs_pct\":" + number(e.p90_abs) + ",\"bias_pct\":" + number(e.median_signed) + "}";
  }
  return out + "]";
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw InputError(path, 0, "-o", "cannot write file");
    out << text;
    if (!out) throw InputError(path, 0, "-o", "write failed");
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace

int calibrate_fit_command(const CommandContext& context) {
  Args args("calibrate fit", context.args);
  const auto gpu_name = args.value("--gpu");
  const auto output = args.value("--output", "-o");
  const auto start_card = args.value("--start");
  const bool json = args.flag("--json");
  const auto tables = args.positionals();
  if (tables.empty()) args.fail("expected at least one TABLE");
  if (!gpu_name) args.fail("--gpu GPU is required");

  const auto scenario = scenario_for_gpu(*gpu_name, start_card ? start_card : std::optional<std::string>(""));
  std::vector<compute::MeasuredKernel> rows;
  for (const auto& table : tables)
    for (auto& row : compute::read_operator_table(table))
      if (row.gpu == scenario.gpu.name) rows.push_back(std::move(row));
  if (rows.empty()) throw InputError(tables.front(), 0, "gpu", "no row measured on GPU \"" + scenario.gpu.name + "\"");

  const auto report = compute::fit_analytical(rows, scenario.gpu, scenario.compute.params);

  std::ostringstream card;
  card << "# Calibration of kvsim's analytical step-time model for " << scenario.gpu.name << ", written by\n"
       << "#   kvsim calibrate fit";
  for (const auto& t : tables) card << " " << std::filesystem::path(t).filename().string();
  card << " --gpu " << *gpu_name << (start_card ? " --start " + *start_card : "") << "\n"
       << "# Bounded least squares on log(predicted/measured) over " << report.train_rows << " training rows ("
       << report.iterations << " iterations, rms log error " << number(report.rms_log_error, 3) << "); "
       << report.holdout_rows << " holdout rows only evaluated.\n# Median |error| per operator, holdout split:";
  for (const auto& e : report.holdout) card << " " << e.op << " " << number(e.median_abs, 3) << "%";
  card << "\nname = \"" << scenario.gpu.name << "\"\ngpu = \"" << scenario.gpu.name << "\"\n"
       << "source = \"fitted by kvsim calibrate fit on "
       << std::filesystem::path(tables.front()).filename().string() << "\"\n";
  const compute::AnalyticalParams built_in;
  for (const auto& knob : compute::analytical_knobs()) {
    const bool fitted = std::find(report.fitted.begin(), report.fitted.end(), knob.name) != report.fitted.end();
    const double value = report.params.*(knob.member);
    // A knob fixed by design keeps its provenance while it holds the built-in value (whether
    // it came from the defaults or through a --start card that kept it).
    const bool fixed = !fitted && knob.fixed_because && value == built_in.*(knob.member);
    card << knob.name << " = " << knob_value(knob, value) << "  # "
         << (fitted  ? std::string("fitted")
             : fixed ? std::string("fixed: ") + knob.fixed_because
             : start_card ? "from " + *start_card + " (no training row constrains it)"
                          : std::string("built-in default (no training row constrains it)"))
         << "\n";
  }
  if (output) write_atomically(*output, card.str());

  if (json) {
    std::cout << "{\"gpu\":\"" << scenario.gpu.name << "\",\"train_rows\":" << report.train_rows
              << ",\"holdout_rows\":" << report.holdout_rows << ",\"knobs\":{";
    bool first = true;
    for (const auto& knob : compute::analytical_knobs()) {
      std::cout << (first ? "" : ",") << "\"" << knob.name << "\":" << number(report.params.*(knob.member), 10);
      first = false;
    }
    std::cout << "},\"train\":" << errors_json(report.train) << ",\"holdout\":" << errors_json(report.holdout) << "}\n";
  } else {
    std::cout << "fitted " << scenario.gpu.name << " on " << report.train_rows << " training rows ("
              << report.iterations << " iterations)\n";
    for (const auto& knob : compute::analytical_knobs()) {
      const double v = report.params.*(knob.member);
      std::cout << "  " << std::left << std::setw(30) << knob.name << std::right
                << (knob.is_time ? number(v * 1e6, 4) + " us" : number(v, 4)) << "\n";
    }
    print_errors(std::cout, "training rows:", report.train);
    print_errors(std::cout, "holdout rows (never fitted):", report.holdout);
    if (output) std::cout << "wrote " << *output << "\n";
  }
  return 0;
}

int calibrate_predict_command(const CommandContext& context) {
  Args args("calibrate predict", context.args);
  const auto output = args.value("--output", "-o");
  const auto calibration = args.value("--calibration");
  const auto sets = args.values("--set");
  const auto tables = args.positionals();
  if (tables.size() != 1) args.fail("expected one TABLE");
  if (!output) args.fail("-o OUT.csv is required");
  const auto rows = compute::read_operator_table(tables.front());
  std::map<std::string, config::Scenario> scenarios;
  std::ostringstream out;
  out << compute::kOperatorTableHeader << ",predicted_us\n";
  for (const auto& row : rows) {
    auto it = scenarios.find(row.gpu);
    if (it == scenarios.end()) it = scenarios.emplace(row.gpu, scenario_for_gpu(row.gpu, calibration, sets)).first;
    const compute::KernelTimes kernels(it->second.gpu, it->second.compute.params);
    const double predicted = compute::kernel_time(kernels, row.shape);
    out << compute::format_operator_row(row, &predicted) << "\n";
  }
  if (*output == "-") std::cout << out.str();
  else write_atomically(*output, out.str());
  return 0;
}

int calibrate_import_command(const CommandContext& context) {
  Args args("calibrate import", context.args);
  const auto gpu = args.value("--gpu");
  const auto model = args.value("--model");
  const auto output = args.value("--output", "-o");
  const auto files = args.positionals();
  if (files.empty()) args.fail("expected at least one Vidur CSV");
  if (!gpu || gpu->empty()) args.fail("--gpu GPU is required");
  if (!output) args.fail("-o OUT.csv is required");
  std::ostringstream out;
  out << "# kvsim measured-operator table imported by kvsim calibrate import from:";
  for (const auto& f : files) out << " " << std::filesystem::path(f).filename().string();
  out << "\n" << compute::kOperatorTableHeader << "\n";
  for (const auto& file : files) {
    const auto imported = compute::import_vidur_csv(read_text_file(file, "VIDUR.csv"), file, *gpu, model.value_or(""));
    for (const auto& row : imported.rows) out << compute::format_operator_row(row) << "\n";
    std::cerr << file << ": " << imported.kind << ", " << imported.rows.size() << " rows"
              << (imported.skipped ? ", " + std::to_string(imported.skipped) + " cross-node all-reduces skipped" : "")
              << "\n";
  }
  if (*output == "-") std::cout << out.str();
  else write_atomically(*output, out.str());
  return 0;
}

}  // namespace kvsim::cli
