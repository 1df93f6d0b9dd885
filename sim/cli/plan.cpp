// kvsim plan: the smallest (or cheapest) configuration meeting every SLO, or the highest
// load a configuration sustains within them, found by search over simulated probes.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "sim/cli/command.hpp"
#include "sim/config/scenario.hpp"
#include "sim/config/units.hpp"
#include "sim/experiments/plan_probe.hpp"
#include "sim/experiments/plan_search.hpp"
#include "sim/util/error.hpp"
#include "sim/util/interrupt.hpp"

namespace kvsim::cli {

extern const char* const kPlanHelp;
const char* const kPlanHelp = R"(Usage: kvsim plan [SCENARIO.toml] [--set KEY=VALUE]... --slo METRIC.STAT=DURATION...
                  (--vary KEY=LO..HI [--vary KEY=A,B,...] [--cost] | --max-load [KEY=]LO..HI [--vary KEY=A,B,...])

Finds the smallest configuration meeting every SLO at the scenario's load, by searching
instead of gridding: on the count axis (--vary KEY=LO..HI) it probes LO, then doubles until a
probe passes, then bisects between the last failing and the first passing count (at most
about 2·log2(HI-LO+1) probes). Each probe runs every seed and passes only when all of them
meet every SLO (slo_pass in the results). With a second --vary over a list (e.g.
platform.gpu=h100-sxm,h200) the search runs for each value and the smallest count wins, or
with --cost the cheapest (count × instances.tp GPUs × price per GPU-hour).
--max-load instead finds the highest arrival rate (default key workload.rate; use
workload.speed for a trace) the configuration sustains within SLO: doubling from LO, then
bisection until the bracket is within --tolerance.

Every probe run is a results file in the output directory, named after its settings, so a
rerun reuses them. The answer is printed with the supporting runs and their margins.

Options:
  --set KEY=VALUE       override a scenario key for every probe (repeatable)
  --slo M.S=DURATION    an SLO bound passed to every run (repeatable), e.g. --slo ttft.p99=2s
  --vary KEY=LO..HI     the count axis (integers), e.g. instances.count=1..256
  --vary KEY=A,B,...    a list axis searched in turn, e.g. platform.gpu=h100-sxm,h200
  --max-load [KEY=]LO..HI  find the highest load within SLO (default KEY workload.rate)
  --tolerance F         relative width of the --max-load bracket (default 0.05)
  --seeds N             seeds 1..N per probe (default 3)
  --cost                pick the cheapest configuration instead of the smallest count
  --price CARD=USD      price per GPU-hour of a GPU card (repeatable); a card without one
                        takes cost.gpu_hour from the scenario ([cost] or --set cost.gpu_hour=)
  --no-auto-nodes       do not raise platform.nodes to fit instances.count × instances.tp GPUs
  -j, --jobs N          runs in parallel (default 1)
  -o, --output DIR      where probe runs are written (default results/plan)
  -h, --help            this help

Exit status: 0 an answer was found, 1 none in the range, 2 invalid input.
)";

namespace {

using experiments::Probe;

struct RangeAxis {
  std::string key;
  double lo = 0, hi = 0;
};

std::optional<RangeAxis> parse_range(const std::string& text, const std::string& option, bool integers,
                                     const std::string& default_key) {
  const auto eq = text.find('=');
  std::string key = eq == std::string::npos ? default_key : text.substr(0, eq);
  const std::string range = eq == std::string::npos ? text : text.substr(eq + 1);
  const auto dots = range.find("..");
  if (dots == std::string::npos) return std::nullopt;
  auto number = [&](const std::string& s) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || (integers && v != std::floor(v)))
      throw InputError("command line", 0, option,
                       std::string("expected KEY=LO..HI with ") + (integers ? "integers" : "numbers") + ", got \"" +
                           text + "\"");
    return v;
  };
  RangeAxis axis{key, number(range.substr(0, dots)), number(range.substr(dots + 2))};
  if (key.empty()) throw InputError("command line", 0, option, "missing KEY in \"" + text + "\"");
  if (!(axis.lo > 0) || axis.hi < axis.lo)
    throw InputError("command line", 0, option, "expected 0 < LO <= HI, got \"" + text + "\"");
  return axis;
}

struct SloColumn {
  std::string name;  // summary column, e.g. ttft_p99
  std::string text;  // as given, e.g. ttft.p99=2s
  double bound = 0;  // s
};

std::string number3(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

std::string seed_text(const experiments::SeedRun& r, const std::vector<SloColumn>& slos) {
  std::string s = "seed " + std::to_string(r.seed) + (r.pass ? " pass" : " FAIL");
  if (const auto it = r.summary.find("slo_attainment"); it != r.summary.end()) s += ", attainment " + number3(it->second);
  for (const auto& slo : slos) {
    const auto it = r.summary.find(slo.name);
    if (it == r.summary.end()) continue;
    const double margin = (slo.bound - it->second) / slo.bound * 100;
    s += ", " + slo.name + " " + number3(it->second) + " s (" + (margin >= 0 ? number3(margin) + "% under " : number3(-margin) + "% over ") +
         number3(slo.bound) + " s)";
  }
  if (const auto it = r.summary.find("overloaded"); it != r.summary.end() && it->second != 0) s += ", overloaded";
  return s;
}

void print_probe(std::ostream& out, const std::string& label, const Probe& p, const std::vector<SloColumn>& slos) {
  out << "  " << label << (p.pass ? "  pass" : "  FAIL") << "\n";
  for (const auto& r : p.runs) out << "      " << seed_text(r, slos) << "\n";
}

std::string number_value(double v) { return config::shortest_number(v); }

// What both searches share: the scenario and overrides, the list axis, the SLO columns
// shown as margins, prices, and the probe runner.
struct Plan {
  std::string base;
  std::vector<std::string> sets;
  std::string list_key;
  std::vector<std::string> list_values;  // {""} without a list axis
  std::vector<SloColumn> slos;
  std::map<std::string, double> prices;  // per GPU-hour, by GPU card
  bool cost = false;
  bool auto_nodes = true;
  experiments::ProbeRunner& runner;
  std::ostream& out;

  // The scenario as a probe would load it, with one instance (so any count validates):
  // GPUs per node, TP and the GPU card, for auto nodes and prices.
  config::Scenario resolve(const std::string& list_value) const {
    config::LoadOptions load;
    load.config_path = base;
    load.overrides = sets;
    if (!list_key.empty()) load.overrides.push_back(list_key + "=" + list_value);
    load.overrides.push_back("instances.count=1");
    load.output = "";
    return config::load_scenario(load);
  }
};

// The smallest count (or cheapest list value and count) meeting every SLO. Exit status.
int smallest_configuration(Plan& plan, const RangeAxis& count_axis) {
  using namespace kvsim::experiments;
  const auto& list_key = plan.list_key;
  const auto& slos = plan.slos;
  const auto& prices = plan.prices;
  auto& runner = plan.runner;
  auto& out = plan.out;
  struct Candidate {
    std::string list_value;
    std::int64_t count;
    double gpus;
    std::optional<double> cost_per_hour;
    std::string gpu;
  };
  std::vector<Candidate> candidates;
  std::size_t max_probes = 0;
  for (const auto& list_value : plan.list_values) {
    const config::Scenario probe_scenario = plan.resolve(list_value);
    // Price per GPU-hour: --price for the card, else the scenario's cost.gpu_hour (0 = not
    // priced). Checked before any probe runs.
    std::optional<double> gpu_price;
    if (auto it = prices.find(probe_scenario.gpu.name); it != prices.end()) {
      gpu_price = it->second;
    } else if (probe_scenario.cost.gpu_hour > 0) {
      gpu_price = probe_scenario.cost.gpu_hour;
    }
    if (plan.cost && !gpu_price)
      throw InputError("command line", 0, "--price",
                       "--cost needs the price of GPU " + probe_scenario.gpu.name + ": give --price " +
                           probe_scenario.gpu.name + "=USD_PER_GPU_HOUR");
    const bool scale_nodes = plan.auto_nodes && count_axis.key == "instances.count";
    const std::string prefix = list_key.empty() ? "" : list_key + "=" + list_value;
    if (!prefix.empty()) out << prefix << "\n";
    std::map<std::int64_t, Probe> probes;
    const auto search = smallest_passing(std::int64_t(count_axis.lo), std::int64_t(count_axis.hi), [&](std::int64_t n) {
      std::vector<std::string> overrides;
      if (!list_key.empty()) overrides.push_back(list_key + "=" + list_value);
      overrides.push_back(count_axis.key + "=" + std::to_string(n));
      if (scale_nodes) {
        const long gpus = long(n) * probe_scenario.tp;
        overrides.push_back("platform.nodes=" + std::to_string((gpus + probe_scenario.node.gpus - 1) / probe_scenario.node.gpus));
      }
      Probe p = runner.run(overrides);
      std::cerr << "plan: probe " << (prefix.empty() ? "" : prefix + ", ") << count_axis.key << "=" << n << ": "
                << (p.pass ? "pass" : "fail") << "\n";
      return (probes[n] = std::move(p)).pass;
    });
    max_probes = std::max(max_probes, search.probes.size());
    for (const auto& [n, p] : probes) {
      std::string label = count_axis.key + "=" + std::to_string(n);
      for (const auto& o : p.overrides)
        if (o.starts_with("platform.nodes=") && scale_nodes) label += " (" + o + ")";
      print_probe(out, label, p, slos);
    }
    if (!search.smallest) {
      out << "  no " << count_axis.key << " in " << count_axis.lo << ".." << count_axis.hi << " meets every SLO\n";
      continue;
    }
    Candidate c{list_value, *search.smallest, 0, std::nullopt, probe_scenario.gpu.name};
    c.gpus = double(c.count) * (count_axis.key == "instances.count" ? probe_scenario.tp : 1);
    if (gpu_price) c.cost_per_hour = c.gpus * *gpu_price;
    out << "  smallest " << count_axis.key << ": " << c.count;
    if (probes.count(c.count - 1)) out << " (" << c.count - 1 << " fails)";
    if (c.cost_per_hour) out << ", " << number3(c.gpus) << " GPUs, " << number3(*c.cost_per_hour) << " per hour";
    out << "\n";
    candidates.push_back(c);
  }
  out << "probes per search: at most " << max_probes << " (" << runner.simulations() << " simulations run, "
      << runner.seeds_per_probe() << " seeds per probe)\n";
  if (candidates.empty()) {
    out << "answer: none in the range\n";
    return 1;
  }
  const Candidate* best = &candidates.front();
  for (const auto& c : candidates) {
    if (plan.cost) {
      if (*c.cost_per_hour < *best->cost_per_hour) best = &c;
    } else if (c.count < best->count) {
      best = &c;
    }
  }
  out << "answer: " << (list_key.empty() ? "" : list_key + "=" + best->list_value + ", ") << count_axis.key << "="
      << best->count;
  if (best->cost_per_hour) out << " (" << number3(*best->cost_per_hour) << " per hour" << (plan.cost ? ", the cheapest" : "") << ")";
  out << "\n";
  return 0;
}

// The highest load (per list value) within SLO. Exit status.
int highest_load(Plan& plan, const RangeAxis& load_axis, double tolerance) {
  using namespace kvsim::experiments;
  const auto& list_key = plan.list_key;
  const auto& slos = plan.slos;
  auto& runner = plan.runner;
  auto& out = plan.out;
  std::optional<double> best;
  std::string best_list;
  for (const auto& list_value : plan.list_values) {
    const std::string prefix = list_key.empty() ? "" : list_key + "=" + list_value;
    if (!prefix.empty()) out << prefix << "\n";
    std::vector<std::pair<double, Probe>> probes;
    const auto search = highest_passing(load_axis.lo, load_axis.hi, tolerance, [&](double x) {
      std::vector<std::string> overrides;
      if (!list_key.empty()) overrides.push_back(list_key + "=" + list_value);
      overrides.push_back(load_axis.key + "=" + number_value(x));
      Probe p = runner.run(overrides);
      std::cerr << "plan: probe " << (prefix.empty() ? "" : prefix + ", ") << load_axis.key << "=" << number_value(x)
                << ": " << (p.pass ? "pass" : "fail") << "\n";
      probes.emplace_back(x, std::move(p));
      return probes.back().second.pass;
    });
    std::sort(probes.begin(), probes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [x, p] : probes) print_probe(out, load_axis.key + "=" + number_value(x), p, slos);
    if (!search.highest_pass) {
      out << "  even " << load_axis.key << "=" << number_value(load_axis.lo) << " misses an SLO\n";
      continue;
    }
    out << "  highest " << load_axis.key << " within SLO: " << number_value(*search.highest_pass);
    if (search.lowest_fail) out << " (" << number_value(*search.lowest_fail) << " fails)";
    else out << " (the top of the range; it may sustain more)";
    out << ", " << search.probes.size() << " probes\n";
    if (!best || *search.highest_pass > *best) {
      best = search.highest_pass;
      best_list = list_value;
    }
  }
  if (!best) {
    out << "answer: none in the range\n";
    return 1;
  }
  out << "answer: " << (list_key.empty() ? "" : list_key + "=" + best_list + ", ") << load_axis.key << "="
      << number_value(*best) << "\n";
  return 0;
}

}  // namespace

int plan_command(const CommandContext& context) {
  using namespace kvsim::experiments;
  Args args("plan", context.args);
  const auto sets = args.values("--set");
  const auto slo_texts = args.values("--slo");
  const auto varies = args.values("--vary");
  const auto max_load_text = args.value("--max-load");
  const double tolerance = args.number_value("--tolerance").value_or(0.05);
  const auto seed_count = args.unsigned_value("--seeds").value_or(3);
  const bool cost = args.flag("--cost");
  const auto prices_text = args.values("--price");
  const bool auto_nodes = !args.flag("--no-auto-nodes");
  const auto parallel = args.unsigned_value("--jobs", "-j").value_or(1);
  const std::string output = args.value("--output", "-o").value_or("results/plan");
  const auto files = args.positionals();
  if (files.size() > 1) args.fail("more than one scenario file given");
  const std::string base = files.empty() ? "" : files[0];
  if (seed_count == 0 || seed_count > 1000) throw InputError("command line", 0, "--seeds", "expected 1 to 1000 seeds");
  if (parallel == 0 || parallel > 1024) throw InputError("command line", 0, "--jobs", "expected 1 to 1024");
  if (!(tolerance > 0 && tolerance < 1)) throw InputError("command line", 0, "--tolerance", "expected 0 < F < 1");

  std::optional<RangeAxis> count_axis;
  std::string list_key;
  std::vector<std::string> list_values;
  for (const auto& v : varies) {
    if (auto range = parse_range(v, "--vary", true, "")) {
      if (count_axis) args.fail("only one --vary KEY=LO..HI (the count axis)");
      count_axis = range;
      continue;
    }
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
      throw InputError("command line", 0, "--vary", "expected KEY=LO..HI or KEY=A,B,..., got \"" + v + "\"");
    if (!list_key.empty()) args.fail("only one --vary KEY=A,B,... (the list axis)");
    list_key = v.substr(0, eq);
    std::istringstream in(v.substr(eq + 1));
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) list_values.push_back(item);
  }
  std::optional<RangeAxis> load_axis;
  if (max_load_text) {
    load_axis = parse_range(*max_load_text, "--max-load", false, "workload.rate");
    if (!load_axis) throw InputError("command line", 0, "--max-load", "expected [KEY=]LO..HI, got \"" + *max_load_text + "\"");
    if (count_axis) args.fail("--max-load varies the load: give no --vary KEY=LO..HI with it");
    if (cost) args.fail("--cost goes with a count search, not --max-load");
  } else if (!count_axis) {
    args.fail("give --vary KEY=LO..HI (smallest configuration) or --max-load LO..HI (highest load)");
  }
  if (slo_texts.empty())
    std::cerr << "plan: no --slo given: the scenario's [slo] table decides (a run without bounds always passes)\n";

  std::vector<SloColumn> slos;
  std::vector<std::string> extra;
  for (const auto& s : slo_texts) {
    extra.push_back("--slo");
    extra.push_back(s);
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw InputError("command line", 0, "--slo", "expected METRIC.STAT=DURATION, got \"" + s + "\"");
    std::string name = s.substr(0, eq);
    for (auto& c : name)
      if (c == '.') c = '_';
    slos.push_back({name, s, config::parse_quantity(s.substr(eq + 1), config::Dimension::time)});
  }
  std::map<std::string, double> prices;
  for (const auto& p : prices_text) {
    const auto eq = p.find('=');
    double v = 0;
    const std::string number = eq == std::string::npos ? "" : p.substr(eq + 1);
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (eq == std::string::npos || ec != std::errc() || end != number.data() + number.size() || !(v >= 0))
      throw InputError("command line", 0, "--price", "expected CARD=USD_PER_GPU_HOUR, got \"" + p + "\"");
    prices[p.substr(0, eq)] = v;
  }
  bool user_nodes = false;
  for (const auto& s : sets) user_nodes = user_nodes || s.starts_with("platform.nodes=");

  install_interrupt_handlers();
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 1; s <= seed_count; ++s) seeds.push_back(s);
  ProbeRunner runner(base, sets, extra, seeds, output, unsigned(parallel));
  if (list_values.empty()) list_values.push_back("");  // one pass without a list axis


  Plan plan{base, sets, list_key, list_values, slos, prices, cost, auto_nodes && !user_nodes, runner, std::cout};
  return count_axis ? smallest_configuration(plan, *count_axis) : highest_load(plan, *load_axis, tolerance);
}

}  // namespace kvsim::cli
