// kvsim report: one results file's summary, or several side by side with their differences.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/command.hpp"
#include "sim/results/hdf5_reader.hpp"
#include "sim/results/records.hpp"
#include "sim/util/text.hpp"

namespace kvsim::cli {

extern const char* const kReportHelp;
const char* const kReportHelp = R"(Usage: kvsim report RUN.h5 [RUN2.h5 ...] [--json]

With one results file: its summary, as `kvsim run` printed it (the table, including the SLO
bounds and the overload verdict), with the file's seed, version and command line.
With several: every /summary figure side by side, and for each file after the first its
difference from the first, absolute (value - first) and relative ((value - first) / |first|,
blank when the first is 0). SLO bounds present in every file are compared by measured value.

Options:
  --json       one JSON object on stdout. One file: {"file", "seed", "kvsim_version",
               "command_line", "summary"} where "summary" is exactly `kvsim run --json`'s
               object. Several: {"runs": [those objects], "differences": {FIELD: {"unit",
               "values", "abs", "rel"}}}, abs and rel holding one entry per file after the
               first (null where undefined).
  -h, --help   this help

Exit status: 0 on success, 2 when a file is missing or not a kvsim results file.
)";

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string run_json(const results::StoredRun& run) {
  std::ostringstream summary;
  results::print_summary_json(summary, results::summary_of(run));
  std::string text = summary.str();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return "{\"file\":" + json_string(run.path) + ",\"seed\":" + std::to_string(run.seed) +
         ",\"kvsim_version\":" + json_string(run.text_attributes.at("kvsim_version")) +
         ",\"command_line\":" + json_string(run.text_attributes.at("command_line")) + ",\"summary\":" + text + "}";
}

// The overload sentence is not stored; the flag and the growth are.
std::string overload_words(const results::Summary& s) {
  char text[160];
  if (s.overloaded)
    std::snprintf(text, sizeof text, "OVERLOADED: the wait for a first token grows by %.3f s per s of arrivals",
                  s.overload_growth);
  else
    std::snprintf(text, sizeof text, "stable (first-token wait growth %.3f s per s of arrivals)", s.overload_growth);
  return text;
}

// One compared figure: its value in every run.
struct Figure {
  std::string name, unit;
  std::vector<double> values;
};

std::vector<Figure> common_figures(const std::vector<results::StoredRun>& runs) {
  std::vector<Figure> figures;
  for (const auto& column : runs[0].summary.columns) {
    if (!column.numeric) continue;
    Figure f{column.name, column.unit, {}};
    for (const auto& run : runs) {
      const auto* other = run.summary.find(column.name);
      if (!other || !other->numeric) break;
      f.values.push_back(other->numbers[0]);
    }
    if (f.values.size() == runs.size()) figures.push_back(std::move(f));
  }
  // SLO bounds by name, compared on their measured value.
  const auto summaries = [&] {
    std::vector<results::Summary> s;
    for (const auto& run : runs) s.push_back(results::summary_of(run));
    return s;
  }();
  for (const auto& bound : summaries[0].slo) {
    Figure f{"slo." + std::string(bound.name) + ".measured", "s", {}};
    for (const auto& s : summaries) {
      for (const auto& other : s.slo)
        if (std::string(other.name) == bound.name) f.values.push_back(other.measured);
    }
    if (f.values.size() == runs.size()) figures.push_back(std::move(f));
  }
  return figures;
}

double relative(double value, double first) { return first != 0 ? (value - first) / std::fabs(first) : std::nan(""); }

std::string cell(double v, const char* fmt = "%14.6g") {
  char text[48];
  std::snprintf(text, sizeof text, fmt, v);
  return text;
}

void print_comparison_table(std::ostream& out, const std::vector<results::StoredRun>& runs) {
  out << "runs\n";
  for (std::size_t i = 0; i < runs.size(); ++i)
    out << "  [" << i + 1 << "] " << runs[i].path << "   seed " << runs[i].seed << "   "
        << runs[i].text_attributes.at("command_line") << '\n';
  char header[64];
  std::snprintf(header, sizeof header, "%-32s %-9s", "figure", "unit");
  out << header;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    char column[24];
    std::snprintf(column, sizeof column, "%14s", ("[" + std::to_string(i + 1) + "]").c_str());
    out << column;
  }
  out << "   differences from [1]: absolute (relative)\n";
  for (const Figure& f : common_figures(runs)) {
    char label[64];
    std::snprintf(label, sizeof label, "%-32s %-9s", f.name.c_str(), f.unit.c_str());
    out << label;
    for (const double v : f.values) out << cell(v);
    for (std::size_t i = 1; i < f.values.size(); ++i) {
      const double rel = relative(f.values[i], f.values[0]);
      out << "   [" << i + 1 << "]-[1] " << cell(f.values[i] - f.values[0], "%+.6g");
      out << (std::isnan(rel) ? std::string(" (-)") : " (" + cell(rel * 100, "%+.2f") + " %)");
    }
    out << '\n';
  }
}

void print_comparison_json(std::ostream& out, const std::vector<results::StoredRun>& runs) {
  out << "{\"runs\":[";
  for (std::size_t i = 0; i < runs.size(); ++i) out << (i ? "," : "") << run_json(runs[i]);
  out << "],\"differences\":{";
  bool first = true;
  for (const Figure& f : common_figures(runs)) {
    out << (first ? "" : ",") << json_string(f.name) << ":{\"unit\":" << json_string(f.unit) << ",\"values\":[";
    first = false;
    for (std::size_t i = 0; i < f.values.size(); ++i) out << (i ? "," : "") << json_number(f.values[i]);
    out << "],\"abs\":[";
    for (std::size_t i = 1; i < f.values.size(); ++i) out << (i > 1 ? "," : "") << json_number(f.values[i] - f.values[0]);
    out << "],\"rel\":[";
    for (std::size_t i = 1; i < f.values.size(); ++i)
      out << (i > 1 ? "," : "") << json_number(relative(f.values[i], f.values[0]));
    out << "]}";
  }
  out << "}}\n";
}

}  // namespace

int report_command(const CommandContext& context) {
  Args args("report", context.args);
  const bool json = args.flag("--json");
  const auto files = args.positionals();
  if (files.empty()) args.fail("give at least one results file (RUN.h5)");
  std::vector<results::StoredRun> runs;
  for (const auto& file : files) runs.push_back(results::read_run(file));

  if (runs.size() == 1) {
    const auto& run = runs[0];
    if (json) {
      std::cout << run_json(run) << '\n';
      return 0;
    }
    const results::Summary summary = results::summary_of(run);
    std::cout << "file          " << run.path << "   seed " << run.seed << "   kvsim "
              << run.text_attributes.at("kvsim_version") << '\n';
    std::cout << "command       " << run.text_attributes.at("command_line") << '\n';
    results::print_summary_table(std::cout, summary);
    std::cout << "load          " << overload_words(summary) << '\n';
    return 0;
  }
  if (json)
    print_comparison_json(std::cout, runs);
  else
    print_comparison_table(std::cout, runs);
  return 0;
}

}  // namespace kvsim::cli
