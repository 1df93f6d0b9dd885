// kvsim step: the predicted time of one engine step of a given batch, with its breakdown per
// operator family, from the scenario's model, GPU, TP and [compute] section. Users check
// their hardware assumptions with it; tests and validation scripts use it.
#include <charconv>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "models/compute/perf_model.hpp"
#include "sim/cli/command.hpp"
#include "sim/config/scenario.hpp"
#include "sim/util/error.hpp"
#include "sim/util/text.hpp"

namespace kvsim::cli {

extern const char* const kStepHelp;
const char* const kStepHelp = R"(Usage: kvsim step [CONFIG.toml] [--set KEY=VALUE]... --prefill N[+C][xK]... --decode K@C... [--json]

Prints the predicted time of one engine step of the given batch on one instance of the
scenario (its model, GPU, tensor-parallel degree and [compute] section), with the time of
each operator family: linear layers, elementwise kernels, attention, KV writes, all-reduces,
LM head and CPU overhead. No CONFIG: the embedded default scenario.

Batch:
  --prefill N[+C][xK]  K sequences (default 1) each computing an N-token prefill chunk after
                       C cached tokens (default 0); the chunk samples a token (repeatable)
  --decode K@C         K decoding sequences with C tokens of context each (repeatable)
Examples: --prefill 512+1536x4 (four 512-token chunks after 1,536 cached tokens),
          --decode 32@1024 (32 decodes at 1,024 tokens of context).

Options:
  --set KEY=VALUE      override a config key, e.g. --set platform.gpu=h200 --set instances.tp=4
                       --set compute.gemm_floor=4us (repeatable)
  --json               one JSON object on stdout: step_s, breakdown_s{...}, the batch and the setup
  -h, --help           this help

Exit status: 0 on success, 2 on invalid input (config, batch strings, options), 1 on internal errors.
)";

namespace {

std::uint64_t parse_count(std::string_view text, const std::string& option, const std::string& whole, bool positive) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || (positive && value == 0))
    throw InputError("command line", 0, option,
                     "bad batch \"" + whole + "\": expected " + (positive ? "a positive" : "a non-negative") +
                         " whole number, got \"" + std::string(text) + "\"" +
                         (option == "--prefill" ? " (format N[+C][xK], e.g. 512+1536x4)" : " (format K@C, e.g. 32@1024)"));
  return value;
}

struct Group {
  std::uint64_t count, chunk, context;
};

Group parse_prefill(const std::string& text) {
  std::string_view s = text;
  std::uint64_t count = 1, context = 0;
  if (auto x = s.find('x'); x != std::string_view::npos) {
    count = parse_count(s.substr(x + 1), "--prefill", text, true);
    s = s.substr(0, x);
  }
  if (auto plus = s.find('+'); plus != std::string_view::npos) {
    context = parse_count(s.substr(plus + 1), "--prefill", text, false);
    s = s.substr(0, plus);
  }
  return {count, parse_count(s, "--prefill", text, true), context};
}

Group parse_decode(const std::string& text) {
  const auto at = text.find('@');
  if (at == std::string::npos)
    throw InputError("command line", 0, "--decode", "bad batch \"" + text + "\": expected K@C, e.g. 32@1024");
  return {parse_count(std::string_view(text).substr(0, at), "--decode", text, true), 1,
          parse_count(std::string_view(text).substr(at + 1), "--decode", text, false)};
}

std::string num(double v) {
  std::ostringstream o;
  o << std::setprecision(10) << v;
  return o.str();
}

}  // namespace

int step_command(const CommandContext& context) {
  Args args("step", context.args);
  config::LoadOptions load;
  load.overrides = args.values("--set");
  const auto prefills = args.values("--prefill");
  const auto decodes = args.values("--decode");
  const bool json = args.flag("--json");
  const auto files = args.positionals();
  if (files.size() > 1) args.fail("expected at most one CONFIG file");
  if (files.size() == 1) load.config_path = files.front();
  if (prefills.empty() && decodes.empty()) args.fail("give the batch with --prefill N[+C][xK] and/or --decode K@C");
  load.overrides.push_back("output.path=");

  compute::BatchShape batch;
  std::uint64_t longest = 0;
  for (const auto& p : prefills) {
    const Group g = parse_prefill(p);
    for (std::uint64_t i = 0; i < g.count; ++i) batch.add(g.context, g.chunk, true);
    longest = std::max(longest, g.context + g.chunk);
  }
  for (const auto& d : decodes) {
    const Group g = parse_decode(d);
    for (std::uint64_t i = 0; i < g.count; ++i) batch.add(g.context, 1, true);
    longest = std::max(longest, g.context + 1);
  }
  if (batch.num_seqs > 1u << 20) throw InputError("command line", 0, "--prefill/--decode", "more than 2^20 sequences");

  const config::Scenario scenario = config::load_scenario(load);
  const auto model = compute::make_step_time_model(scenario.model, scenario.gpu, scenario.tp, scenario.compute);
  const auto b = model->breakdown(batch);
  const std::pair<const char*, double> parts[] = {{"linear", b.linear},       {"elementwise", b.elementwise},
                                                  {"attention", b.attention}, {"kv_write", b.kv_write},
                                                  {"allreduce", b.allreduce}, {"lm_head", b.lm_head},
                                                  {"overhead", b.overhead}};
  const std::string warning = longest > std::uint64_t(scenario.model.max_context)
                                  ? "a sequence exceeds the model's max_context of " +
                                        std::to_string(scenario.model.max_context) + " tokens"
                                  : "";
  if (json) {
    std::cout << "{\"step_s\":" << num(b.total()) << ",\"breakdown_s\":{";
    bool first = true;
    for (const auto& [name, value] : parts) {
      std::cout << (first ? "" : ",") << "\"" << name << "\":" << num(value);
      first = false;
    }
    std::cout << "},\"batch\":{\"seqs\":" << batch.num_seqs << ",\"decode_seqs\":" << batch.decode_seqs
              << ",\"new_tokens\":" << batch.new_tokens << ",\"attention_pairs\":" << num(batch.attention_pairs)
              << ",\"context_tokens\":" << num(batch.context_tokens) << "},\"model\":" << json_quote(scenario.model.name)
              << ",\"gpu\":" << json_quote(scenario.gpu.name) << ",\"tp\":" << scenario.tp
              << ",\"step_time_model\":" << json_quote(scenario.compute.model)
              << ",\"calibration\":" << json_quote(scenario.compute.calibration)
              << ",\"warning\":" << json_quote(warning) << "}\n";
    return 0;
  }
  std::cout << scenario.model.name << " on " << scenario.tp << " x " << scenario.gpu.name << " ("
            << scenario.compute.model << (scenario.compute.calibration.empty() ? "" : ", calibration " + scenario.compute.calibration)
            << "): " << batch.num_seqs << " sequences (" << batch.decode_seqs << " decoding), " << batch.new_tokens
            << " new tokens\n";
  std::cout << std::fixed << std::setprecision(3);
  for (const auto& [name, value] : parts)
    std::cout << "  " << std::left << std::setw(12) << name << std::right << std::setw(12) << value * 1e3 << " ms"
              << std::setw(8) << std::setprecision(1) << (b.total() > 0 ? 100.0 * value / b.total() : 0.0) << " %\n"
              << std::setprecision(3);
  std::cout << "  " << std::left << std::setw(12) << "step" << std::right << std::setw(12) << b.total() * 1e3 << " ms\n";
  if (!warning.empty()) std::cerr << "kvsim step: warning: " << warning << "\n";
  return 0;
}

}  // namespace kvsim::cli
