// kvsim cache: timing-free replay of a trace through one KV block cache for every
// (eviction policy, capacity) pair (models/kvcache/cache_replay.hpp).
#include <iomanip>
#include <iostream>
#include <sstream>

#include "models/kvcache/cache_replay.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/eviction/wa_profile.hpp"
#include "sim/cli/command.hpp"
#include "sim/config/scenario.hpp"
#include "sim/config/units.hpp"
#include "sim/util/error.hpp"
#include "sim/util/text.hpp"
#include "workloads/readers/read_ahead.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/synth/chat.hpp"

namespace kvsim::cli {

extern const char* const kCacheHelp;
const char* const kCacheHelp = R"(Usage: kvsim cache TRACE --capacity C[,C...] [options]
       kvsim cache --synthetic N --capacity C[,C...] [options]

Replays TRACE through one KV block cache, without timing, once per (policy, capacity) pair,
and prints the block hit ratio (hit blocks / requested blocks), the token hit ratio and the
number of evictions. Requests are taken in arrival order (ties in file order); a request
hits the longest resident prefix of its blocks; then all its blocks become resident and are
touched tail to head; then blocks are evicted until the cache holds at most its capacity.
Requests without block identities are all misses but occupy capacity.

Options:
  --policy P[,P...]       eviction policies (default lru): lru, fifo, lfu, sieve, s3fifo,
                          arc, gdsf, wa, wa-online, opt (models/kvcache/eviction/README.md);
                          parameters as P:key=value[:key=value], e.g. wa:lookahead=10s
  --capacity C[,C...]     cache sizes in --unit; counts take decimal suffixes (1M = 10^6),
                          bytes binary ones too (64GiB); each becomes floor(C / block) blocks
  --unit U                tokens (default), blocks or bytes
  --block-size N          engine block size in tokens (default 16)
  --model CARD            model card giving the KV bytes per token for --unit bytes
                          (default llama-3.1-8b; a name or a .toml path)
  --wa-profile FILE       reuse profile for wa (kvsim trace profile TRACE --until T -o FILE)
  --format F              format of TRACE instead of detecting it
  --trace-block-size N    block size of TRACE's hashes (default: the format's)
  --skip-bad-lines        count malformed lines instead of failing on the first one
  --sort                  sort TRACE by time instead of failing when timestamps go back
  --window-start T        replay only requests at or after trace time T (e.g. 1h); arrivals
                          are rebased to the first one kept
  --window-end T          and at or before trace time T
  --synthetic N           instead of TRACE: N requests of the chat generator with its
                          defaults (workloads/README.md), seed --seed (default 1)
  --seed S                seed of --synthetic
  --timing                also print each replay's wall time and block accesses per second
  --json                  print one JSON object (one row per policy and capacity)
  -h, --help              this help

Exit status: 0 on success, 2 on invalid input (trace, options), 1 on internal errors.
)";

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

double parse_number(const std::string& text, config::Dimension dim, const std::string& field) {
  try {
    return config::parse_quantity(text, dim);
  } catch (const std::invalid_argument& e) {
    throw InputError("command line", 0, field, e.what());
  }
}

struct PolicyChoice {
  std::string spec;  // as given
  std::string name;
  kvcache::eviction::PolicyParams params;
};

PolicyChoice parse_policy(const std::string& spec, const std::shared_ptr<const kvcache::eviction::WaProfile>& profile) {
  const auto parts = split(spec, ':');
  PolicyChoice choice{spec, parts[0], {}};
  const kvcache::eviction::PolicyInfo* found = nullptr;
  try {
    found = &kvcache::eviction::find_policy(parts[0]);
  } catch (const InputError& e) {
    // The registry names no source; on the command line the culprit is --policy.
    const std::string what = e.what();
    const std::string prefix = e.file() + ": " + e.field() + ": ";
    throw InputError("command line", 0, "--policy", what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what);
  }
  const auto& info = *found;
  std::map<std::string, double, std::less<>> overrides;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("command line", 0, "--policy", "expected key=value after \"" + parts[0] + ":\", got \"" + parts[i] + "\"");
    const std::string key = parts[i].substr(0, eq);
    config::Dimension dim = config::Dimension::dimensionless;
    for (const auto& p : info.params)
      if (p.name == key && p.unit == "s") dim = config::Dimension::time;
    overrides[key] = parse_number(parts[i].substr(eq + 1), dim, "--policy " + parts[0] + "." + key);
  }
  choice.params = kvcache::eviction::resolve_params(info, overrides, profile);
  if (info.needs_profile && !profile)
    throw InputError("command line", 0, "--wa-profile",
                     "policy " + choice.name + " needs --wa-profile FILE (written by kvsim trace profile TRACE --until T -o FILE)");
  return choice;
}

double kv_bytes_per_token(const std::string& card) {
  // The model card is read through the scenario loader, which knows card names and paths;
  // the instance shape only has to be one the largest cards fit in.
  config::LoadOptions load;
  std::string quoted;
  for (char c : card) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  load.config_text = "[model]\ncard = \"" + quoted + "\"\n[instances]\ncount = 1\ntp = 8\n";
  return config::load_scenario(load).model.kv_bytes_per_token();
}

}  // namespace

int cache_command(const CommandContext& context) {
  Args args("cache", context.args);
  workload::TraceOptions trace_options = cli::trace_options(args);
  const std::string policy_list = args.value("--policy").value_or("lru");
  const auto capacity_list = args.value("--capacity");
  const std::string unit = args.value("--unit").value_or("tokens");
  const std::string model = args.value("--model").value_or("llama-3.1-8b");
  const auto profile_path = args.value("--wa-profile");
  const auto synthetic = args.unsigned_value("--synthetic");
  const std::uint64_t seed = args.unsigned_value("--seed").value_or(1);
  const bool timing = args.flag("--timing");
  const bool json = args.flag("--json");
  const auto files = args.positionals();
  if (synthetic && !files.empty()) args.fail("give either TRACE or --synthetic N, not both");
  if (!synthetic && files.size() != 1) args.fail(files.empty() ? "expected a TRACE file" : "expected one TRACE file");
  if (!capacity_list) args.fail("--capacity is required");
  if (unit != "tokens" && unit != "blocks" && unit != "bytes")
    throw InputError("command line", 0, "--unit", "expected tokens, blocks or bytes, got \"" + unit + "\"");
  const std::uint32_t block_size = trace_options.block_size;

  // Everything about the options is checked before the trace is read.
  std::shared_ptr<const kvcache::eviction::WaProfile> profile;
  if (profile_path)
    profile = std::make_shared<const kvcache::eviction::WaProfile>(kvcache::eviction::read_wa_profile(*profile_path));
  std::vector<PolicyChoice> choices;
  for (const auto& spec : split(policy_list, ',')) choices.push_back(parse_policy(spec, profile));
  const double bytes_per_block = unit == "bytes" ? kv_bytes_per_token(model) * block_size : 0;
  std::vector<std::pair<std::string, std::uint64_t>> capacities;
  for (const auto& text : split(*capacity_list, ',')) {
    const double value =
        parse_number(text, unit == "bytes" ? config::Dimension::bytes : config::Dimension::dimensionless, "--capacity");
    const double per_block = unit == "tokens" ? double(block_size) : unit == "bytes" ? bytes_per_block : 1.0;
    const double blocks = std::floor(value / per_block);
    if (!(blocks >= 1))
      throw InputError("command line", 0, "--capacity",
                       "capacity \"" + text + "\" " + unit + " is less than one block (" +
                           std::to_string(block_size) + " tokens" +
                           (unit == "bytes" ? ", " + std::to_string(std::uint64_t(bytes_per_block)) + " bytes" : "") + ")");
    if (blocks > 4e9) throw InputError("command line", 0, "--capacity", "capacity \"" + text + "\" exceeds 4e9 blocks");
    capacities.emplace_back(text, static_cast<std::uint64_t>(blocks));
  }

  std::unique_ptr<workload::Source> source;
  std::string trace_name;
  if (synthetic) {
    workload::ChatParams params;
    params.num_requests = *synthetic;
    source = std::make_unique<workload::ChatGenerator>(params, Rng::stream(seed, "workload"), block_size);
    trace_name = "synthetic chat, " + std::to_string(*synthetic) + " requests, seed " + std::to_string(seed);
  } else {
    // Parsing on a second thread overlaps the loading (same requests, same order).
    source = workload::read_ahead(workload::open_trace(files[0], trace_options));
    trace_name = files[0];
  }
  // The first row is replayed while the trace loads (the parsing runs on the read-ahead
  // thread, so the two overlap), unless its policy needs the future or the trace turns out
  // not to be in arrival order; the others replay the loaded trace.
  std::unique_ptr<kvcache::StreamingReplay> streamed;
  if (!kvcache::eviction::find_policy(choices[0].name).needs_future)
    streamed = std::make_unique<kvcache::StreamingReplay>(choices[0].name, choices[0].params, capacities[0].second);
  const auto replay_first = [&](const kvcache::ReplayTrace& loaded) {
    if (streamed) streamed->add(loaded);
  };
  // When the streamed replay is the only one, the loaded trace is not needed afterwards.
  const bool only_streamed = streamed && choices.size() * capacities.size() == 1;
  kvcache::ReplayTrace trace = kvcache::load_replay_trace(
      *source, block_size, kvcache::eviction::kNever, trace_name, replay_first,
      only_streamed ? kvcache::LoadKeeps::unreplayed : kvcache::LoadKeeps::whole_trace);
  if (streamed && !streamed->in_order()) streamed.reset();
  for (const auto& c : choices)
    if (kvcache::eviction::find_policy(c.name).needs_future) {
      kvcache::compute_next_use(trace);
      break;
    }

  std::vector<std::pair<std::string, kvcache::ReplayResult>> rows;
  for (const auto& c : choices)
    for (const auto& [text, blocks] : capacities)
      rows.emplace_back(text, rows.empty() && streamed ? streamed->finish() : kvcache::replay(trace, c.name, c.params, blocks));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].second.policy = choices[i / capacities.size()].spec;

  if (json) {
    std::string out = "{\"trace\": " + json_quote(trace_name) + ", \"requests\": " + std::to_string(trace.request_count()) +
                      ", \"block_accesses\": " + std::to_string(trace.accesses()) +
                      ", \"block_size\": " + std::to_string(block_size) + ", \"unit\": " + json_quote(unit) +
                      ", \"rows\": [";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& [text, r] = rows[i];
      out += std::string(i ? ", " : "") + "{\"policy\": " + json_quote(r.policy) + ", \"capacity\": " + json_quote(text) +
             ", \"capacity_blocks\": " + std::to_string(r.capacity_blocks) +
             ", \"block_hit_ratio\": " + json_number(r.block_hit_ratio()) +
             ", \"token_hit_ratio\": " + json_number(r.token_hit_ratio()) +
             ", \"hit_blocks\": " + std::to_string(r.hit_blocks) +
             ", \"requested_blocks\": " + std::to_string(r.requested_blocks) +
             ", \"hit_tokens\": " + std::to_string(r.hit_tokens) +
             ", \"requested_tokens\": " + std::to_string(r.requested_tokens) +
             ", \"evictions\": " + std::to_string(r.evictions);
      if (timing)
        out += ", \"seconds\": " + json_number(r.seconds) + ", \"accesses_per_second\": " +
               json_number(r.seconds > 0 ? double(r.requested_blocks) / r.seconds : 0.0);
      out += "}";
    }
    out += "]}\n";
    std::cout << out;
  } else {
    std::cout << "trace: " << trace_name << " (" << trace.request_count() << " requests, " << trace.accesses()
              << " block accesses, " << block_size << "-token blocks)\n";
    std::cout << std::left << std::setw(22) << "policy" << std::right << std::setw(14) << "capacity" << std::setw(14)
              << "blocks" << std::setw(12) << "block hit" << std::setw(12) << "token hit" << std::setw(14)
              << "evictions";
    if (timing) std::cout << std::setw(10) << "seconds" << std::setw(14) << "accesses/s";
    std::cout << "\n" << std::fixed;
    for (const auto& [text, r] : rows) {
      std::cout << std::left << std::setw(22) << r.policy << std::right << std::setw(14) << text << std::setw(14)
                << r.capacity_blocks << std::setprecision(4) << std::setw(12) << r.block_hit_ratio() << std::setw(12)
                << r.token_hit_ratio() << std::setw(14) << r.evictions;
      if (timing)
        std::cout << std::setprecision(3) << std::setw(10) << r.seconds << std::setprecision(0) << std::setw(14)
                  << (r.seconds > 0 ? double(r.requested_blocks) / r.seconds : 0.0);
      std::cout << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

}  // namespace kvsim::cli
