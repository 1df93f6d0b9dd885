// kvsim trace synth: generate a trace from a mix workload spec (workloads/synth/mix/mix.hpp)
// or a built-in preset, and write it in one of the trace formats.
#include <iostream>

#include "sim/cli/command.hpp"
#include "sim/config/reader.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/synth/mix/mix.hpp"

namespace kvsim::cli {

extern const char* const kTraceSynthHelp;
const char* const kTraceSynthHelp = R"(Usage: kvsim trace synth SPEC.toml|PRESET [options] -o OUT

Generates a synthetic trace from a mix workload spec (populations of kind chat, api, agent,
batch; see workloads/README.md) or a built-in preset, and writes it.

Presets: to-c (Bailian to-C trace: multi-turn chat, ~6 req/s over 2 h),
         to-b (Bailian to-B trace: API clients with shared templates, ~24 req/s over 2 h).

Options:
  --set KEY=VALUE   override any key of the spec, e.g. --set rate_scale=10 --set duration=24h
                    (to-c at 60 req/s for 24 h), --set population.0.session_rate=4,
                    --set population.0.types.text.weight=0.5 (repeatable)
  --seed N          random seed (default 1); the same seed gives a byte-identical file
  --block-size N    KV block size in tokens of the written block identities (default 16)
  -o, --output OUT  output file (required)
  --to FORMAT       kvsim (default), bailian or mooncake
  -h, --help        this help

Exit status: 0 on success, 2 on invalid input (spec, options, paths), 1 on internal errors.
)";

namespace {

// Counts what passes through, for the closing message.
class Counting final : public workload::Source {
 public:
  explicit Counting(workload::Source& inner) : inner_(inner) {}
  std::optional<workload::Request> next() override {
    auto r = inner_.next();
    if (r) {
      ++count_;
      last_ = r->arrival;
    }
    return r;
  }
  std::uint64_t expected_count() const override { return inner_.expected_count(); }
  const std::vector<std::string>& categories() const override { return inner_.categories(); }
  std::uint64_t count() const { return count_; }
  double last() const { return last_; }

 private:
  workload::Source& inner_;
  std::uint64_t count_ = 0;
  double last_ = 0;
};

}  // namespace

int trace_synth_command(const CommandContext& context) {
  Args args("trace synth", context.args);
  const auto overrides = args.values("--set");
  const std::uint64_t seed = args.unsigned_value("--seed").value_or(1);
  const auto block_size = args.unsigned_value("--block-size").value_or(16);
  const auto output = args.value("--output", "-o");
  const std::string format = args.value("--to").value_or("kvsim");
  const auto rest = args.positionals();
  if (rest.empty()) args.fail("expected a spec file or a preset name (" + [] {
    std::string list;
    for (const auto& n : workload::mix_preset_names()) list += (list.empty() ? "" : ", ") + n;
    return list;
  }() + ")");
  if (rest.size() > 1) args.fail("more than one spec given (" + rest[0] + ", " + rest[1] + ")");
  if (!output || output->empty()) args.fail("missing -o OUT");
  if (block_size == 0 || block_size > 1'000'000) args.fail("--block-size: expected between 1 and 1000000 tokens");

  std::string dir;
  toml::table doc = workload::load_mix_spec(rest[0], &dir);
  for (const auto& o : overrides) config::apply_override(doc, o);
  auto read = std::make_shared<config::ReadContext>();
  read->default_source = rest[0];
  config::Section root(&doc, "", read);
  workload::MixParams params = workload::parse_mix_params(root);
  root.finish();
  workload::MixGenerator generator(std::move(params), Rng::stream(seed, "workload"),
                                   static_cast<std::uint32_t>(block_size), dir);
  Counting counting(generator);
  workload::write_trace(counting, *output, format, static_cast<std::uint32_t>(block_size));
  std::cerr << "wrote " << counting.count() << " requests (" << counting.last() << " s) to " << *output << "\n";
  return 0;
}

}  // namespace kvsim::cli
