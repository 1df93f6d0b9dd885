// Registry of workload generators (see source_factory.hpp).
#include "workloads/source_factory.hpp"
#include "workloads/service_classes.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <utility>

#include "sim/config/reader.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/synth/chat.hpp"
#include "workloads/synth/mix/mix.hpp"

namespace kvsim::workload {

namespace {

// One registry entry from a generator's parameter parser and class, whose constructor is
// (Params, Rng, block_size, base_dir).
template <auto Parse, typename Generator>
constexpr GeneratorInfo entry(std::string_view name, std::string_view summary) {
  return {name, summary, [](config::Section& section) { (void)Parse(section); },
          [](config::Section& section, std::uint64_t seed, std::uint32_t block_size,
             const std::string& base_dir) -> std::function<std::unique_ptr<Source>()> {
            return [params = Parse(section), seed, block_size, base_dir] {
              return std::unique_ptr<Source>(
                  std::make_unique<Generator>(params, Rng::stream(seed, "workload"), block_size, base_dir));
            };
          }};
}

const Registry<GeneratorInfo> generators{"workload generator", {
    entry<&parse_chat_params, ChatGenerator>(
        "chat", "multi-turn chat sessions with shared system prompts (or empirical length pairs)"),
    entry<&parse_mix_params, MixGenerator>(
        "mix", "populations (chat, api, agent, batch) from a spec or preset (to-c, to-b)"),
}};

}  // namespace

const Registry<GeneratorInfo>& workload_generators() { return generators; }

std::vector<std::string> workload_generator_names() {
  std::vector<std::string> names;
  for (const auto& g : generators) names.emplace_back(g.name);
  return names;
}

namespace {

// Keys that only mean something for a trace replay.
constexpr std::string_view kTraceKeys[] = {"format",       "trace_block_size", "speed", "window_start",
                                           "window_end",   "limit",            "skip_bad_lines", "sort"};

TraceOptions read_trace_options(config::Section& s, std::uint32_t block_size) {
  using config::Dimension;
  using config::Range;
  TraceOptions o;
  o.block_size = block_size;
  static const std::vector<std::string> formats = [] {
    auto names = trace_format_names();
    names.insert(names.begin(), "auto");
    return names;
  }();
  o.format = s.choice("format", "auto", formats,
                      "Trace format (with trace): auto detects it from the first line; bailian, mooncake, azure, "
                      "burstgpt or kvsim (workloads/README.md).");
  o.trace_block_size = static_cast<std::uint32_t>(
      s.integer("trace_block_size", 0,
                "Tokens per block of the trace's hashes (with trace); 0 = the format's own (bailian 16, "
                "mooncake 512, kvsim: its header). Mapped onto the engine's block size.",
                0, std::numeric_limits<std::uint32_t>::max()));
  o.speed = s.number("speed", 1.0, "Replay speed-up (with trace): inter-arrival times are divided by it.",
                     Range::positive());
  const double start = s.quantity("window_start", Dimension::time, 0.0,
                                   "Trace time (with trace; before rebasing to 0) of the first request replayed; "
                                   "0 = the start of the trace (times below 0 included).");
  o.window_start = start != 0.0 ? start : -std::numeric_limits<double>::infinity();
  const double end = s.quantity("window_end", Dimension::time, 0.0,
                                "Trace time (with trace; before rebasing) after which requests are dropped; "
                                "0 = the end of the trace.");
  o.window_end = end > 0.0 ? end : std::numeric_limits<double>::infinity();
  if (!(o.window_start <= o.window_end)) s.fail("window_end", "the window ends before window_start");
  o.limit = static_cast<std::uint64_t>(
      s.integer("limit", 0, "Replay at most this many requests of the trace (0 = all).", 0));
  o.skip_bad_lines = s.flag("skip_bad_lines", false,
                            "With trace: count malformed lines (reported as bad_lines) instead of failing on the "
                            "first one.");
  o.sort = s.flag("sort", false,
                  "With trace: sort requests by time (reads the whole trace into memory) instead of failing on "
                  "timestamps that go back.");
  return o;
}

}  // namespace

std::unique_ptr<Source> make_source(config::Section& workload_section, std::uint64_t seed,
                                    std::uint32_t block_size, const std::string& base_dir,
                                    WorkloadSettings* settings) {
  WorkloadSpec spec = make_workload_spec(workload_section, seed, block_size, base_dir);
  if (settings) settings->closed_loop = spec.closed_loop;
  return spec.open();
}

WorkloadSpec make_workload_spec(config::Section& workload_section, std::uint64_t seed, std::uint32_t block_size,
                                const std::string& base_dir) {
  WorkloadSpec spec;
  const std::string trace = workload_section.text(
      "trace", "",
      "Trace file to replay instead of a generator (path relative to the config file); the trace keys "
      "(format, trace_block_size, speed, window_start, window_end, limit, skip_bad_lines, sort) apply to it.");
  const bool closed_loop = workload_section.flag(
      "closed_loop", false,
      "Release a session's next turn its think time after the previous turn completes (the trace's gap "
      "between their arrivals when the think time is unknown), instead of at its arrival time.");
  spec.closed_loop = closed_loop;
  // Service classes by rule wrap whatever source is opened below.
  auto with_classes = [&, rules = read_class_rules(workload_section)](WorkloadSpec opened) {
    if (!rules.empty())
      opened.open = [open = std::move(opened.open), rules, seed] { return classify(open(), rules, seed); };
    return opened;
  };
  if (!trace.empty()) {
    if (workload_section.has("generator"))
      workload_section.fail("generator", "set either trace (replay a file) or generator, not both");
    const TraceOptions options = read_trace_options(workload_section, block_size);
    std::filesystem::path file(trace);
    if (file.is_relative() && !base_dir.empty()) file = std::filesystem::path(base_dir) / file;
    spec.description = "trace " + file.string();
    spec.open = [path = file.string(), options] { return open_trace(path, options); };
    return with_classes(std::move(spec));
  }
  for (const auto key : kTraceKeys)
    if (workload_section.has(key))
      workload_section.fail(key, "applies only to a trace replay (set trace = \"FILE\")");
  {
    // Document the trace keys for `kvsim describe` without putting them in this run's
    // resolved config (they are all absent, so nothing is read).
    auto& context = workload_section.context();
    const bool record = context.record_resolved;
    context.record_resolved = false;
    (void)read_trace_options(workload_section, block_size);
    context.record_resolved = record;
  }
  const auto names = workload_generator_names();
  const std::string name =
      workload_section.choice("generator", "chat", names, "Synthetic workload generator; its parameters follow.");
  spec.description = "generator " + name;
  spec.open = generators.at(name).bind(workload_section, seed, block_size, base_dir);
  return with_classes(std::move(spec));
}

}  // namespace kvsim::workload
