#include "sim/config/scenario.hpp"

#include "models/kvcache/admission/admission.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <unistd.h>

#include "models/kvcache/cache_replay.hpp"
#include "models/kvcache/eviction/wa_profile.hpp"
#include "models/scheduling/batching/batcher.hpp"
#include "models/scheduling/routing/router.hpp"
#include "sim/config/cluster_card.hpp"
#include "sim/config/embedded.hpp"
#include "sim/util/random.hpp"
#include "sim/config/instance_groups.hpp"
#include "sim/util/text.hpp"
#include "workloads/source_factory.hpp"

namespace kvsim::config {

namespace {

constexpr const char* kDefaultSource = "<default scenario>";

// Card documents must outlive the sections reading them.
struct CardStore {
  std::vector<std::unique_ptr<toml::table>> tables;
};

// A card named by registry name (embedded) or by a path to a .toml file.
const toml::table* load_card(CardStore& store, std::string_view kind, Section& at, std::string_view key,
                             const std::string& ref, const std::string& base_dir) {
  std::string text, source;
  if (ref.ends_with(".toml") || ref.find('/') != std::string::npos) {
    std::filesystem::path path(ref);
    if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
    source = path.string();
    text = read_text_file(source, at.dotted(key));
  } else if (const EmbeddedFile* card = find_embedded(kind, ref)) {
    source = std::string(card->path);
    text = std::string(card->text);
  } else {
    std::vector<std::string> names;
    for (const auto& f : embedded_files())
      if (f.kind == kind) names.emplace_back(f.name);
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    std::string message = "unknown " + std::string(kind) + " card \"" + ref + "\"; known cards: " + list +
                          " (or give a path to a .toml card)";
    if (auto near = closest_match(ref, names); !near.empty()) message += "; did you mean \"" + near + "\"?";
    at.fail(key, message);
  }
  store.tables.push_back(std::make_unique<toml::table>(parse_toml(text, source)));
  return store.tables.back().get();
}

compute::GpuCard read_gpu(Section s) {
  compute::GpuCard gpu;
  for (const char* key : {"flops", "hbm", "hbm_bandwidth", "nvlink_bandwidth", "pcie_bandwidth"}) s.require(key);
  s.text("source", "", "where the figures come from");
  gpu.name = s.text("name", "", "GPU name");
  gpu.flops = s.quantity("flops", Dimension::flop_rate, 0, "dense BF16 peak", Range::positive());
  gpu.hbm_bytes = s.quantity("hbm", Dimension::bytes, 0, "HBM capacity", Range::positive());
  gpu.hbm_bandwidth = s.quantity("hbm_bandwidth", Dimension::bandwidth, 0, "HBM bandwidth", Range::positive());
  gpu.nvlink_bandwidth = s.quantity("nvlink_bandwidth", Dimension::bandwidth, 0,
                                    "NVLink bandwidth per direction, all links of one GPU", Range::positive());
  gpu.pcie_generation = int(s.integer("pcie_generation", 5, "PCIe generation", 1, 7));
  gpu.pcie_bandwidth = s.quantity("pcie_bandwidth", Dimension::bandwidth, 0, "PCIe x16 bandwidth per direction",
                                  Range::positive());
  gpu.tdp = s.quantity("tdp", Dimension::power, 700, "thermal design power", Range::positive());
  gpu.idle_watts = s.quantity("idle_watts", Dimension::power, 0.1 * gpu.tdp,
                              "power drawn with no kernel running (energy model; default: 10 % of tdp)");
  if (gpu.idle_watts > gpu.tdp) s.fail("idle_watts", "exceeds tdp (" + format_quantity(gpu.tdp, Dimension::power) + ")");
  gpu.calibration = s.text("calibration", "", "default calibration card of the step-time model");
  gpu.sms = int(s.integer("sms", 0, "streaming multiprocessors (decode attention occupancy; 0 = unknown, occupancy off)", 0, 100000));
  s.finish();
  return gpu;
}

NodeSpec read_node(Section s, std::string& gpu_ref) {
  NodeSpec node;
  s.text("source", "", "where the figures come from");
  node.name = s.text("name", "", "node name");
  gpu_ref = s.text("gpu", "h100-sxm", "GPU card of the node (card name or path)");
  node.gpus = int(s.integer("gpus", 8, "GPUs per node", 1, 1024));
  node.nvswitch = s.flag("nvswitch", true, "GPUs are connected through an NVSwitch");
  node.nvlink_latency = s.quantity("nvlink_latency", Dimension::time, 1e-6, "NVLink hop latency");
  node.pcie_latency = s.quantity("pcie_latency", Dimension::time, 2e-6, "PCIe latency between GPU and host");
  node.host_dram = s.quantity("host_dram", Dimension::bytes, 0, "host DRAM capacity");
  node.host_dram_bandwidth = s.quantity("host_dram_bandwidth", Dimension::bandwidth, 0, "host DRAM bandwidth");
  node.nic_bandwidth = s.quantity("nic_bandwidth", Dimension::bandwidth, 0, "NIC bandwidth per GPU");
  node.nic_latency = s.quantity("nic_latency", Dimension::time, 5e-6, "NIC latency");
  s.finish();
  return node;
}

compute::ModelCard read_model(Section s) {
  compute::ModelCard m;
  for (const char* key : {"layers", "hidden", "heads", "kv_heads", "head_dim", "intermediate", "vocab"}) s.require(key);
  s.text("source", "", "where the architecture numbers come from");
  m.name = s.text("name", "", "model name");
  m.layers = int(s.integer("layers", 0, "transformer layers", 1, 100000));
  m.hidden = int(s.integer("hidden", 0, "hidden size", 1, 1 << 24));
  m.heads = int(s.integer("heads", 0, "attention heads", 1, 1 << 16));
  m.kv_heads = int(s.integer("kv_heads", 0, "key/value heads", 1, 1 << 16));
  m.head_dim = int(s.integer("head_dim", 0, "head dimension", 1, 1 << 16));
  m.intermediate = int(s.integer("intermediate", 0, "MLP inner size", 1, 1 << 24));
  m.vocab = int(s.integer("vocab", 0, "vocabulary size", 1, 1 << 24));
  m.dtype_bytes = int(s.integer("dtype_bytes", 2, "bytes per weight and KV element", 1, 8));
  m.gated_mlp = s.flag("gated_mlp", true, "SwiGLU MLP (three matrices)");
  m.tied_embeddings = s.flag("tied_embeddings", false, "LM head shares the embedding table");
  m.max_context = int(s.integer("max_context", 131072, "maximum context length in tokens", 1, 1 << 30));
  if (m.heads % m.kv_heads != 0) s.fail("kv_heads", "heads must be a multiple of kv_heads");
  s.finish();
  return m;
}

// The analytical model's knobs, each defaulting to `base` (a calibration card's values or
// the built-in fallback). Used for the [compute] section and for calibration cards.
compute::AnalyticalParams read_analytical_knobs(Section& s, compute::AnalyticalParams p) {
  const Range fraction{0, 1, true};
  p.flops_efficiency = s.number("flops_efficiency", p.flops_efficiency,
                                "GEMMs: achieved fraction of the GPU's peak FLOP/s", fraction);
  p.hbm_efficiency = s.number("hbm_efficiency", p.hbm_efficiency,
                              "GEMMs: achieved fraction of HBM bandwidth when streaming weights", fraction);
  p.roofline_sharpness = s.number("roofline_sharpness", p.roofline_sharpness,
                                  "exponent p of the smooth roofline (a^p + b^p)^(1/p); 64 = hard max",
                                  Range::between(1, 64));
  p.gemm_floor = s.quantity("gemm_floor", Dimension::time, p.gemm_floor, "least time of one GEMM kernel");
  p.elementwise_efficiency = s.number("elementwise_efficiency", p.elementwise_efficiency,
                                      "vectorised elementwise kernels (residual add): fraction of HBM bandwidth",
                                      fraction);
  p.rowwise_efficiency = s.number("rowwise_efficiency", p.rowwise_efficiency,
                                  "one-block-per-token kernels (RMSNorm, RoPE, SiLU-and-mul, KV write): fraction of HBM bandwidth with the GPU full",
                                  fraction);
  p.rowwise_tokens_per_sm = s.number("rowwise_tokens_per_sm", p.rowwise_tokens_per_sm,
                                     "one-block-per-token kernels: tokens per SM at which the occupancy curve turns toward full bandwidth (0 = occupancy off)",
                                     Range::at_least(0));
  p.rowwise_occupancy_sharpness = s.number("rowwise_occupancy_sharpness", p.rowwise_occupancy_sharpness,
                                           "one-block-per-token kernels: exponent p of the occupancy curve x/(1+x^p)^(1/p); large = hard min(x, 1)",
                                           Range::between(0.1, 64));
  p.elementwise_floor = s.quantity("elementwise_floor", Dimension::time, p.elementwise_floor,
                                   "least time of one elementwise kernel");
  p.attention_prefill_efficiency = s.number("attention_prefill_efficiency", p.attention_prefill_efficiency,
                                            "prefill attention: fraction of peak FLOP/s approached when each query attends to many keys",
                                            fraction);
  p.attention_prefill_half_keys = s.number("attention_prefill_half_keys", p.attention_prefill_half_keys,
                                           "prefill attention: keys per query (tokens) at which it reaches half of that fraction",
                                           Range::at_least(0));
  p.attention_prefill_floor = s.quantity("attention_prefill_floor", Dimension::time, p.attention_prefill_floor,
                                         "least time of one prefill attention call (one per layer)");
  p.attention_decode_efficiency = s.number("attention_decode_efficiency", p.attention_decode_efficiency,
                                           "decode attention: achieved fraction of HBM bandwidth reading KV", fraction);
  p.attention_decode_floor = s.quantity("attention_decode_floor", Dimension::time, p.attention_decode_floor,
                                        "least time of one decode attention call (one per layer)");
  p.attention_decode_partition = s.number("attention_decode_partition", p.attention_decode_partition,
                                          "decode attention: KV tokens per thread block of the split-KV kernel (vLLM: 512)",
                                          Range::at_least(1));
  p.attention_decode_blocks_per_sm = s.number("attention_decode_blocks_per_sm", p.attention_decode_blocks_per_sm,
                                              "decode attention: thread blocks per SM at which the occupancy curve turns toward full bandwidth (0 = occupancy off)",
                                              Range::at_least(0));
  p.attention_decode_occupancy_sharpness = s.number("attention_decode_occupancy_sharpness", p.attention_decode_occupancy_sharpness,
                                                    "decode attention: exponent p of the occupancy curve x/(1+x^p)^(1/p); large = hard min(x, 1)",
                                                    Range::between(0.1, 64));
  p.nvlink_efficiency = s.number("nvlink_efficiency", p.nvlink_efficiency,
                                 "all-reduce bus bandwidth as a fraction of the GPU's NVLink bandwidth (NCCL low-latency protocol)",
                                 fraction);
  p.allreduce_latency = s.quantity("allreduce_latency", Dimension::time, p.allreduce_latency,
                                   "per-call floor of one tensor-parallel all-reduce (NCCL low-latency protocol)");
  p.nvlink_bulk_efficiency = s.number("nvlink_bulk_efficiency", p.nvlink_bulk_efficiency,
                                      "all-reduce bus bandwidth, NCCL bulk (Simple) protocol; the faster protocol is used",
                                      fraction);
  p.allreduce_bulk_latency = s.quantity("allreduce_bulk_latency", Dimension::time, p.allreduce_bulk_latency,
                                        "per-call floor of one all-reduce, NCCL bulk (Simple) protocol");
  p.step_overhead = s.quantity("step_overhead", Dimension::time, p.step_overhead,
                               "CPU time per engine step (scheduling, input preparation, sampling, outputs)");
  p.overhead_per_seq = s.quantity("overhead_per_seq", Dimension::time, p.overhead_per_seq,
                                  "CPU time per sequence in the step");
  p.overhead_per_token = s.quantity("overhead_per_token", Dimension::time, p.overhead_per_token,
                                    "CPU time per token computed in the step");
  return p;
}

compute::ComputeSpec read_compute(Section s, CardStore& cards, const compute::GpuCard& gpu, const std::string& base_dir) {
  compute::ComputeSpec spec;
  spec.model = s.choice("model", "analytical", compute::step_time_model_names(),
                        "step-time model: analytical (calibrated rooflines) or profile (measured per-operator tables named by compute.profile_tables, a path or an array of paths)");
  spec.calibration = s.text("calibration", gpu.calibration,
                            "calibration card of the analytical knobs (name or path; default: the GPU card's)");
  compute::AnalyticalParams base;
  if (!spec.calibration.empty()) {
    const toml::table* card = load_card(cards, "calibration", s, "calibration", spec.calibration, base_dir);
    auto card_context = std::make_shared<ReadContext>();
    Section c(card, "", card_context);
    c.text("name", "", "calibration name");
    c.text("gpu", "", "GPU card it was fitted for");
    c.text("source", "", "provenance of the fitted values");
    base = read_analytical_knobs(c, base);
    c.finish();
  }
  spec.params = read_analytical_knobs(s, base);
  // Profile tables: a path or an array of paths, relative to the config's directory.
  const toml::node* tables = s.raw("profile_tables");
  auto add_table = [&](const toml::node& node) {
    const auto* path = node.as_string();
    if (!path) s.fail("profile_tables", "expected a path or an array of paths to measured-operator CSV files");
    std::filesystem::path p(path->get());
    if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
    spec.profile_tables.push_back(p.string());
  };
  if (tables) {
    if (const auto* list = tables->as_array()) for (const auto& node : *list) add_table(node);
    else add_table(*tables);
  }
  if (spec.model == "profile" && spec.profile_tables.empty())
    s.fail("model", "\"profile\" needs compute.profile_tables (CSV files in kvsim's measured-operator schema; "
                    "`kvsim calibrate import` converts Vidur profiles)");
  s.finish();
  return spec;
}

// The numeric parameters of a pluggable variant from its table: the declared ones with their
// defaults; any other key is rejected by the table's finish() with a suggestion.
ParamValues read_params(Section table, std::span<const ParamSpec> specs) {
  ParamValues values;
  for (const auto& spec : specs) values[std::string(spec.name)] = table.number(spec.name, spec.default_value, spec.help);
  table.finish();
  return values;
}

// The eviction policy of one tier: `eviction`, its numeric `eviction_params` and, for the
// workload-aware policies, a `wa_profile` written by `kvsim trace profile`.
kvcache::EvictionChoice read_eviction(Section& t, const std::string& base_dir) {
  namespace ev = kvcache::eviction;
  kvcache::EvictionChoice choice;
  choice.policy = t.choice("eviction", "lru", ev::policy_names(),
                           "eviction policy (models/kvcache/eviction/README.md)");
  const auto& info = ev::find_policy(choice.policy);
  if (info.needs_future)
    t.fail("eviction", "\"" + choice.policy + "\" (Belady) needs every future access, which a timed run does not "
                       "know in advance (its requests are generated or released online); use `kvsim cache` for this bound");
  const ParamValues values = read_params(t.table("eviction_params"), info.params);
  const std::string profile = t.text("wa_profile", "", "reuse profile written by `kvsim trace profile` (wa policies)");
  std::shared_ptr<const ev::WaProfile> loaded;
  if (!profile.empty()) {
    std::filesystem::path path(profile);
    if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
    loaded = std::make_shared<ev::WaProfile>(ev::read_wa_profile(path.string()));
  }
  if (info.needs_profile && !loaded)
    t.fail("wa_profile", "policy \"" + choice.policy + "\" needs a profile: run `kvsim trace profile TRACE -o wa.toml`");
  choice.params = ev::resolve_params(info, values, loaded);
  return choice;
}

KvTiersSpec read_kvcache(Section s, const NodeSpec& node, const std::string& base_dir,
                         kvcache::EvictionChoice& hbm) {
  KvTiersSpec kv;
  static const std::vector<std::string> load_rules{"auto", "load", "recompute"};
  kv.load_vs_recompute = s.choice("load_vs_recompute", "auto", load_rules,
                                  "auto: load a prefix from a lower tier only when that beats recomputing it; "
                                  "load: always load; recompute: never load");
  kv.transfer_efficiency = s.number("transfer_efficiency", 0.8,
                                    "achieved fraction of nominal PCIe and NIC bandwidth for KV transfers", {0, 1, true});
  kv.sample_interval = s.quantity("sample_interval", Dimension::time, 10.0, "period of tier occupancy samples",
                                  Range::positive());
  static const std::vector<std::string> admissions = kvcache::admission::admission_rules().names();
  static const std::vector<std::string> placements{"inclusive", "exclusive"};
  const auto common = [&](Section& t, TierSpec& spec, const char* what, double default_capacity) {
    spec.capacity = t.quantity("capacity", Dimension::bytes, default_capacity,
                               std::string("capacity of each ") + what + " (0 = no such tier)");
    spec.admission = t.choice("admission", "demotion", admissions,
                              "what enters: blocks evicted from the tier above (demotion), the same on their "
                              "second eviction (second_touch), every finished request's prompt blocks (completion, "
                              "write-through), or nothing (never); models/kvcache/admission/");
    spec.exclusive = t.choice("placement", "inclusive", placements,
                              "exclusive: a block loaded into HBM leaves this tier") == "exclusive";
    spec.eviction = read_eviction(t, base_dir);
  };
  {
    Section t = s.table("hbm");
    hbm = read_eviction(t, base_dir);
    t.finish();
  }
  {
    Section t = s.table("dram");
    TierSpec spec;
    spec.kind = "dram";
    common(t, spec, "host DRAM cache", 0);
    static const std::vector<std::string> scopes{"node", "instance"};
    spec.scope = t.choice("scope", "node", scopes, "one cache per node, shared by its instances, or one per instance");
    if (spec.capacity > node.host_dram && node.host_dram > 0)
      t.fail("capacity", "exceeds the node's host DRAM (" + format_quantity(node.host_dram, Dimension::bytes) + ")");
    t.finish();
    if (spec.capacity > 0) kv.lower.push_back(spec);
  }
  {
    Section t = s.table("ssd");
    TierSpec spec;
    spec.kind = "ssd";
    spec.scope = "node";
    common(t, spec, "node's NVMe cache", 0);
    // PCIe Gen4 x4 NVMe datasheet class (e.g. Samsung PM9A3 / 990 Pro: ~7 GB/s read, ~5 GB/s write).
    spec.read_bandwidth = t.quantity("read_bandwidth", Dimension::bandwidth, 7e9, "sequential read bandwidth",
                                     Range::positive());
    spec.write_bandwidth = t.quantity("write_bandwidth", Dimension::bandwidth, 5e9, "sequential write bandwidth",
                                      Range::positive());
    t.finish();
    if (spec.capacity > 0) kv.lower.push_back(spec);
  }
  {
    Section t = s.table("remote");
    TierSpec spec;
    spec.kind = "remote";
    spec.scope = "cluster";
    common(t, spec, "cluster-wide pool (all servers together)", 0);
    spec.servers = int(t.integer("servers", 1, "memory servers of the pool", 1, 4096));
    spec.server_bandwidth = t.quantity("nic_bandwidth", Dimension::bandwidth, 50e9,
                                       "NIC bandwidth of each memory server", Range::positive());
    spec.server_latency = t.quantity("nic_latency", Dimension::time, 5e-6, "NIC latency of each memory server");
    t.finish();
    if (spec.capacity > 0) kv.lower.push_back(spec);
  }
  s.finish();
  return kv;
}

std::string render_count(double n) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", n);
  return text;
}

// The simulator keeps state for every KV block of every instance: block entry, eviction
// metadata, policy links, free-list slot, and a prefix-index bucket and node once the block
// is cached. An upper estimate from those structures (about 100 B on x86-64), not measured.
constexpr double kSimulatorBytesPerBlock = 128;

// Refuses a pool whose bookkeeping would not fit in this machine's RAM, before allocating
// it: a tiny model card or a huge kv_blocks otherwise ends in std::bad_alloc mid-run.
void check_block_memory(Section& inst, std::string_view key, std::uint32_t blocks, int instances) {
  const double ram = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  const double needed = double(blocks) * double(instances) * kSimulatorBytesPerBlock;
  if (ram > 0 && needed > ram)
    inst.fail(key, std::to_string(instances) + " instances of " + std::to_string(blocks) +
                       " KV blocks need about " + format_quantity(needed, Dimension::bytes) +
                       " of simulator memory, more than this machine's " + format_quantity(ram, Dimension::bytes) +
                       " of RAM; use a larger instances.block_size or set instances.kv_blocks lower");
}

std::string parent_dir(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// {hash}: 8 hex digits of the FNV-1a hash of the resolved config, so that runs with
// different settings get different default files instead of overwriting each other (the
// same settings and seed give the same file, whose results are identical).
std::string expand_output(std::string pattern, const std::string& name, std::uint64_t seed,
                          const std::string& resolved_toml) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%08llx", static_cast<unsigned long long>(fnv1a64(resolved_toml) >> 32));
  for (const auto& [token, value] : {std::pair<std::string, std::string>{"{name}", name},
                                     std::pair<std::string, std::string>{"{seed}", std::to_string(seed)},
                                     std::pair<std::string, std::string>{"{hash}", hash}}) {
    for (std::size_t at; (at = pattern.find(token)) != std::string::npos;) pattern.replace(at, token.size(), value);
  }
  return pattern;
}

// [slo]: every leaf is a bound named by its dotted path below slo ("ttft.p99", or
// "ttft.p99.9", which TOML and --set read as nested tables), valued by a duration.
void read_slo_bounds(Section& s, const toml::table* table, const std::string& prefix,
                     std::vector<results::SloBound>& bounds) {
  if (!table) return;
  for (const auto& [key, node] : *table) {
    const std::string name(key.str());
    const std::string dotted_name = prefix.empty() ? name : prefix + "." + name;
    if (node.is_table()) {
      Section child = s.table(name);
      read_slo_bounds(child, node.as_table(), dotted_name, bounds);
      child.finish();
      continue;
    }
    results::SloBound bound;
    if (const std::string error = results::parse_slo_name(dotted_name, bound); !error.empty()) s.fail(name, error);
    bound.limit = s.quantity(name, Dimension::time, 0, "SLO bound", Range::positive());
    bounds.push_back(bound);
  }
}

// choose_kind: picks the cluster node group whose node and GPU cards the instances use (an
// [[instances]] group placed on those nodes, sim/config/instance_groups.hpp); null: node 0's.
Scenario read_scenario(const toml::table& doc, const std::shared_ptr<ReadContext>& context, Scenario scenario,
                       const NodeKindChooser& choose_kind = nullptr) {
  CardStore cards;
  Section root(&doc, "", context);

  Section run = root.table("run");
  scenario.name = run.text("name", "default", "run name, used in the default output path");
  scenario.seed = run.unsigned_integer("seed", 1, "random seed of the run");
  scenario.time_limit = run.quantity("time_limit", Dimension::time, 0,
                                     "stop after this much simulated time (0 = when the workload drains)");
  if (scenario.time_limit == 0) scenario.time_limit = std::numeric_limits<double>::infinity();
  scenario.warmup = run.quantity("warmup", Dimension::time, 0,
                                 "requests arriving before this time are simulated but left out of the summary");
  scenario.cooldown = run.quantity("cooldown", Dimension::time, 0,
                                   "requests arriving within this time of the last arrival are simulated but left "
                                   "out of the summary");
  run.finish();

  {
    Section slo = root.table("slo");
    const toml::node* raw = doc.get("slo");
    read_slo_bounds(slo, raw ? raw->as_table() : nullptr, "", scenario.slo);
    slo.finish();
    slo.context().docs.push_back({"slo.<metric>.<stat>", "duration", "none", "s",
                                  "SLO bound, metric ttft, tpot or e2e, stat pNN, pNN.N or mean, e.g. "
                                  "slo.ttft.p99 = \"2s\" (README \"SLOs\")"});
  }

  Section platform = root.table("platform");
  const std::string node_ref = platform.text("node", "dgx-h100", "node card (name or path to a .toml)");
  const toml::table* node_card = load_card(cards, "node", platform, "node", node_ref, scenario.base_dir);
  std::string gpu_ref;
  scenario.node = read_node(platform.layered("node_spec", node_card), gpu_ref);
  if (platform.has("gpu")) gpu_ref = platform.text("gpu", gpu_ref, "GPU card (name or path), overrides the node's");
  else platform.text("gpu", gpu_ref, "GPU card (name or path), overrides the node's");
  const toml::table* gpu_card = load_card(cards, "gpu", platform, "gpu", gpu_ref, scenario.base_dir);
  scenario.gpu = read_gpu(platform.layered("gpu_spec", gpu_card));
  scenario.nodes = int(platform.integer("nodes", 1, "nodes in the cluster", 1, 100000));
  const std::string cluster_ref = platform.text(
      "cluster", "", "cluster card (platforms/clusters/, name or path): node groups and network; replaces node and nodes");
  if (!cluster_ref.empty()) {
    for (const char* key : {"nodes", "gpu", "node_spec", "gpu_spec"})
      if (platform.has(key)) platform.fail(key, std::string("platform.") + key + " cannot be combined with platform.cluster (the card names the nodes)");
    scenario.cluster = read_cluster_card(platform, "cluster", cluster_ref, scenario.base_dir);
    // platform.node (set by the default scenario) may stay when it names the card's first node kind.
    if (platform.has("node") && node_ref != scenario.cluster.groups[0].node.name)
      platform.fail("node", "platform.node cannot be combined with platform.cluster (the card names the nodes)");
    scenario.node = scenario.cluster.groups[0].node;
    scenario.gpu = scenario.cluster.groups[0].gpu;
    scenario.nodes = scenario.cluster.nodes();
    // The resolved config must load again: the keys the card replaces were recorded above
    // with their defaults, and would be refused next to platform.cluster.
    if (auto* resolved_platform = context->resolved["platform"].as_table())
      for (const char* key : {"nodes", "gpu", "node_spec", "gpu_spec"}) resolved_platform->erase(key);
  } else {
    scenario.cluster = identical_nodes(scenario.node, scenario.gpu, scenario.nodes);
  }
  if (choose_kind) {
    const auto& kind = scenario.cluster.groups[std::size_t(choose_kind(scenario.cluster))];
    scenario.node = kind.node;
    scenario.gpu = kind.gpu;
  }
  platform.finish();

  Section model = root.table("model");
  const std::string card_ref = model.text("card", "llama-3.1-8b", "model card (name or path to a .toml)");
  const toml::table* model_card = load_card(cards, "llm", model, "card", card_ref, scenario.base_dir);
  scenario.model = read_model(model.layered("spec", model_card));
  model.finish();

  scenario.compute = read_compute(root.table("compute"), cards, scenario.gpu, scenario.base_dir);

  Section inst = root.table("instances");
  scenario.instances = int(inst.integer("count", 8, "serving instances", 1, 1 << 20));
  scenario.tp = int(inst.integer("tp", 1, "tensor-parallel degree (GPUs per instance)", 1, 1024));
  auto& engine = scenario.engine;
  engine.block_size = std::uint32_t(inst.integer("block_size", 16, "tokens per KV block", 1, 1 << 20));
  scenario.hbm_utilization = inst.number("hbm_utilization", 0.9,
                                         "fraction of each GPU's HBM the engine may use (weights + activations + KV)",
                                         {0, 1, true});
  const std::int64_t kv_blocks = inst.integer("kv_blocks", 0, "KV blocks per instance (0 = derive from HBM)", 0,
                                              std::numeric_limits<std::uint32_t>::max());
  engine.max_num_seqs = std::uint32_t(inst.integer("max_num_seqs", 256, "sequences per step", 1, 1 << 20));
  engine.max_num_batched_tokens = std::uint32_t(
      inst.integer("max_num_batched_tokens", 8192, "tokens per step (prefill chunks + decodes)", 1, 1 << 24));
  engine.chunked_prefill = inst.flag("chunked_prefill", true, "split long prefills across steps");
  engine.prefix_caching = inst.flag("prefix_caching", true, "reuse cached prefix blocks across requests");
  engine.multi_step = inst.flag("multi_step", true,
                                "advance runs of identical decode steps as one event (same results, faster)");
  engine.batcher = inst.choice("batcher", "vllm_v1", scheduling::batching::batchers().names(),
                               "batching policy (models/scheduling/batching/)");
  engine.batcher_params =
      read_params(inst.table("batcher_params"), scheduling::batching::batchers().at(engine.batcher).params);
  engine.max_model_len = std::uint32_t(std::min<std::int64_t>(scenario.model.max_context, UINT32_MAX));
  // Default: the peak activation of a full step (max_num_batched_tokens tokens, max_num_seqs of
  // them sampling), which vLLM's memory profiling measures before sizing its KV cache.
  scenario.activation_reserve = inst.quantity(
      "activation_reserve", Dimension::bytes,
      std::ceil(scenario.model.peak_activation_bytes(scenario.tp, engine.max_num_batched_tokens,
                                                     std::min(engine.max_num_seqs, engine.max_num_batched_tokens))),
      "HBM per GPU kept for activations (default: peak activation of a max_num_batched_tokens step, as vLLM's "
      "memory profiling measures it)", Range::non_negative());

  // Placement: instance i uses GPUs [i*tp, (i+1)*tp), never across nodes.
  if (scenario.node.gpus % scenario.tp != 0)
    inst.fail("tp", "tp=" + std::to_string(scenario.tp) + " does not divide the " + std::to_string(scenario.node.gpus) +
                        " GPUs of a " + scenario.node.name + " node");
  if (scenario.model.heads % scenario.tp != 0 || scenario.model.kv_heads % scenario.tp != 0)
    inst.fail("tp", "tp=" + std::to_string(scenario.tp) + " must divide the model's " +
                        std::to_string(scenario.model.heads) + " heads and " + std::to_string(scenario.model.kv_heads) +
                        " KV heads");
  const long total_gpus = scenario.cluster.total_gpus();
  if (long(scenario.instances) * scenario.tp > total_gpus)
    inst.fail("count", std::to_string(scenario.instances) + " instances at tp=" + std::to_string(scenario.tp) +
                           " need " + std::to_string(long(scenario.instances) * scenario.tp) + " GPUs; the platform has " +
                           std::to_string(total_gpus));
  {
    std::vector<int> used;
    // Instances serve on one GPU kind: the nodes of other kinds in a heterogeneous card
    // stay unused (an [[instances]] group of their kind places instances there).
    const std::string& gpu_kind = scenario.gpu.name;
    const auto same_kind = [&](int node) { return scenario.cluster.group_of(node).gpu.name == gpu_kind; };
    if (!place_instances(scenario.cluster, scenario.instances, scenario.tp, used, scenario.placement, same_kind))
      inst.fail("count", "the instances do not fit on the cluster's " + gpu_kind + " nodes at tp=" +
                             std::to_string(scenario.tp));
  }

  const double usable = scenario.gpu.hbm_bytes * scenario.hbm_utilization - scenario.activation_reserve;
  const double weights_per_gpu = scenario.model.weight_bytes() / scenario.tp;
  const double kv_per_gpu = usable - weights_per_gpu;
  if (kv_per_gpu <= 0)
    inst.fail("tp", "model " + scenario.model.name + " does not fit: " + format_quantity(weights_per_gpu, Dimension::bytes) +
                        " of weights per GPU at tp=" + std::to_string(scenario.tp) + ", but each " + scenario.gpu.name +
                        " offers " + format_quantity(usable, Dimension::bytes) +
                        " (hbm x hbm_utilization - activation_reserve); raise instances.tp");
  const double block_bytes = double(engine.block_size) * scenario.model.kv_bytes_per_token();
  const double hbm_blocks = std::floor(kv_per_gpu * scenario.tp / block_bytes);
  // A pool larger than the HBM left for KV cannot exist on the simulated GPUs.
  if (double(kv_blocks) > hbm_blocks)
    inst.fail("kv_blocks", std::to_string(kv_blocks) + " blocks of " + format_quantity(block_bytes, Dimension::bytes) +
                               " do not fit in the " + format_quantity(kv_per_gpu * scenario.tp, Dimension::bytes) +
                               " of HBM left for KV per instance (at most " + render_count(hbm_blocks) + " blocks)");
  engine.num_blocks = kv_blocks > 0 ? std::uint32_t(kv_blocks) : std::uint32_t(std::min(4.0e9, hbm_blocks));
  if (engine.num_blocks == 0) inst.fail("block_size", "not even one KV block fits in the HBM left for KV");
  check_block_memory(inst, kv_blocks > 0 ? "kv_blocks" : "block_size", engine.num_blocks, scenario.instances);
  inst.finish();

  scenario.kv = read_kvcache(root.table("kvcache"), scenario.node, scenario.base_dir, scenario.engine.eviction);
  if (scenario.kv.has("remote") && scenario.node.nic_bandwidth <= 0)
    root.fail("kvcache", "a remote tier needs GPU NICs: set platform.node_spec.nic_bandwidth");
  scenario.cluster.nics = !scenario.cluster.name.empty() || scenario.nodes > 1 || scenario.kv.has("remote");

  Section routing = root.table("routing");
  scenario.router = routing.choice("policy", "least_loaded", scheduling::routing::router_names(), "router");
  scenario.router_params = read_params(routing.table("params"), scheduling::routing::routers().at(scenario.router).params);
  // [routing.decode]: the router of prefill/decode disaggregation's decode side (read only
  // when written, so scenarios without it keep their resolved config and its hash).
  if (routing.has("decode")) {
    Section decode = routing.table("decode");
    scenario.decode_router = decode.choice("policy", "least_loaded", scheduling::routing::router_names(),
                                           "router picking the decode instance of a request whose prefill is done");
    scenario.decode_router_params =
        read_params(decode.table("params"), scheduling::routing::routers().at(scenario.decode_router).params);
    decode.finish();
  }
  routing.finish();

  Section workload_section = root.table("workload");
  scenario.workload = workload::make_workload_spec(workload_section, scenario.seed, engine.block_size, scenario.base_dir);
  workload_section.finish();
  // Opening the source once here validates it (a missing or malformed trace is an error at
  // load, not mid-run) and tells its categories: category-keyed policies (wa) name
  // categories as type x turn of the workload's types.
  const auto categories = kvcache::category_names(scenario.workload.open()->categories());
  engine.eviction.category_names = categories;
  for (auto& tier : scenario.kv.lower) tier.eviction.category_names = categories;

  Section cost = root.table("cost");
  // Prices in any one currency; 0 leaves that part out of the cost.
  scenario.cost.gpu_hour = cost.number("gpu_hour", 0, "price of one GPU-hour of the serving GPUs", Range::non_negative());
  scenario.cost.dram_gb_hour = cost.number("dram_gb_hour", 0, "price of one GB-hour (1e9 B) of the DRAM KV tier",
                                           Range::non_negative());
  scenario.cost.ssd_gb_hour = cost.number("ssd_gb_hour", 0, "price of one GB-hour (1e9 B) of the SSD KV tier",
                                          Range::non_negative());
  scenario.cost.kwh = cost.number("kwh", 0, "price of one kWh of the GPUs' energy", Range::non_negative());
  cost.finish();

  Section output = root.table("output");
  const std::string path = output.text("path", "results/{name}-seed{seed}-{hash}.h5",
                                       "results file; {name}, {seed} and {hash} (8 hex digits of a hash of the "
                                       "resolved config: distinct settings, distinct files) are substituted; \"\" = "
                                       "write none");
  output.finish();

  root.finish();
  scenario.resolved_toml = to_toml_text(*context);
  scenario.output_path = expand_output(path, scenario.name, scenario.seed, scenario.resolved_toml);
  return scenario;
}

// `--set workload.trace=F` or `--set workload.generator=G` choosing another kind of source
// than the config's replaces the config's workload settings (closed_loop aside, which
// every source has): the embedded default's chat keys would otherwise block any trace or
// other generator ("set either trace or generator", "unknown key turns_mean").
void replace_workload_on_switch(toml::table& doc, const std::vector<std::string>& overrides) {
  toml::table* workload = doc["workload"].as_table();
  if (!workload) return;
  for (const auto& assignment : overrides) {
    const std::string_view key = std::string_view(assignment).substr(0, assignment.find('='));
    if (key != "workload.trace" && key != "workload.generator") continue;
    toml::table probe;
    apply_override(probe, assignment);
    const auto chosen = probe.at_path(key).value<std::string>();
    const auto old_trace = (*workload)["trace"].value<std::string>();
    const bool had_trace = old_trace && !old_trace->empty();
    const std::string old_generator = (*workload)["generator"].value<std::string>().value_or("chat");
    const bool same = key == "workload.trace" ? had_trace : (!had_trace && chosen && *chosen == old_generator);
    if (same) continue;
    for (auto it = workload->begin(); it != workload->end();)
      it = it->first.str() == "closed_loop" ? std::next(it) : workload->erase(it);
    return;
  }
}

}  // namespace

std::pair<NodeSpec, compute::GpuCard> load_node_card(Section& at, std::string_view key, const std::string& ref,
                                                     const std::string& base_dir) {
  static CardStore cards;  // card documents outlive the sections reading them
  const toml::table* node_card = load_card(cards, "node", at, key, ref, base_dir);
  auto context = std::make_shared<ReadContext>();
  context->record_resolved = false;
  std::string gpu_ref;
  NodeSpec node = read_node(Section(node_card, "", context), gpu_ref);
  Section node_section(node_card, "", context);
  const toml::table* gpu_card = load_card(cards, "gpu", node_section, "gpu", gpu_ref, base_dir);
  return {node, read_gpu(Section(gpu_card, "", context))};
}

std::string_view default_scenario_text() { return find_embedded("scenario", "default")->text; }

Scenario load_scenario(const LoadOptions& options) {
  Scenario scenario;
  toml::table doc;
  if (options.config_text) {
    scenario.source = "<text>";
    scenario.base_dir = ".";
    doc = parse_toml(*options.config_text, scenario.source);
  } else if (options.config_path.empty()) {
    scenario.source = kDefaultSource;
    scenario.base_dir = ".";
    doc = parse_toml(default_scenario_text(), kDefaultSource);
  } else {
    scenario.source = options.config_path;
    scenario.base_dir = parent_dir(options.config_path);
    doc = parse_toml(read_text_file(options.config_path, "config"), options.config_path);
  }
  replace_workload_on_switch(doc, options.overrides);
  for (const auto& assignment : options.overrides) apply_override(doc, assignment);
  if (options.seed) apply_override(doc, "run.seed=" + std::to_string(*options.seed));
  if (options.output) {
    auto* output = doc.insert("output", toml::table{}).first->second.as_table();
    if (!output) throw InputError("-o", 0, "output", "the config's output is not a table");
    output->insert_or_assign("path", *options.output);
  }
  // [[instances]] groups: one parse per group (sim/config/instance_groups.hpp).
  return read_with_instance_groups(doc, [&](const toml::table& one, const NodeKindChooser& choose_kind) {
    auto context = std::make_shared<ReadContext>();
    context->default_source = scenario.source;
    return read_scenario(one, context, scenario, choose_kind);
  });
}

std::vector<ParamDoc> describe_scenario() {
  auto context = std::make_shared<ReadContext>();
  context->default_source = kDefaultSource;
  Scenario scenario;
  scenario.base_dir = ".";
  read_scenario(parse_toml(default_scenario_text(), kDefaultSource), context, std::move(scenario));
  // [[instances]] groups take every [instances] key plus these (sim/config/instance_groups.hpp).
  const std::vector<std::array<const char*, 3>> group_keys{
      {"name", "groupN", "group name (its /groups summary row)"},
      {"role", "mixed", "mixed, prefill or decode (P/D disaggregation: sim/engine/kv_handoff.hpp)"},
      {"model", "the [model] card", "model card the group serves (name or path)"},
      {"node_group", "any", "place the group only on this node group of the cluster card"},
      {"gpu", "any", "place the group only on nodes with this GPU card"}};
  for (const auto& [key, fallback, help] : group_keys)
    context->docs.push_back({std::string("instances.") + key, "string", fallback, "",
                             std::string("[[instances]] groups only: ") + help});
  // [routing.decode] is read only when written (its absence keeps older resolved configs
  // and their hashes), so the default scenario never documents it: listed here.
  auto docs = context->docs;
  std::string routers;
  for (const auto& name : scheduling::routing::router_names()) routers += (routers.empty() ? "" : ", ") + name;
  const auto after = std::find_if(docs.begin(), docs.end(), [](const ParamDoc& d) { return d.key == "routing.policy"; });
  docs.insert(after == docs.end() ? after : after + 1,
              {"routing.decode.policy", "string", "\"least_loaded\"", "",
               "P/D disaggregation (prefill and decode [[instances]] groups): router picking the decode instance of a "
               "request whose prefill is done, with its parameters in [routing.decode.params]; one of: " +
                   routers + "."});
  return docs;
}

}  // namespace kvsim::config
