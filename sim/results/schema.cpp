#include "sim/results/schema.hpp"

#include <cstdint>
#include <string>
#include <type_traits>

#include "sim/results/records.hpp"

namespace kvsim::results {

namespace {

template <class T>
constexpr ColumnKind kind_of() {
  if constexpr (std::is_same_v<T, std::uint64_t>) return ColumnKind::u64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return ColumnKind::i64;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return ColumnKind::u32;
  else if constexpr (std::is_same_v<T, std::int32_t>) return ColumnKind::i32;
  else if constexpr (std::is_same_v<T, double>) return ColumnKind::f64;
  else if constexpr (std::is_same_v<T, RequestStatus>) return ColumnKind::u8_status;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return ColumnKind::u8;
  else if constexpr (std::is_array_v<T> && std::is_same_v<std::remove_extent_t<T>, char>) return ColumnKind::fixed_string;
  else static_assert(!sizeof(T), "no column kind for this C++ type");
}

// Offset of a (possibly nested) member, measured on a real object rather than with
// offsetof, which would need the member name as a token.
template <class Row, class T>
std::size_t offset_in(const Row& probe, const T& member) {
  return static_cast<std::size_t>(reinterpret_cast<const char*>(&member) - reinterpret_cast<const char*>(&probe));
}

template <class Row, class T>
ColumnSpec column(std::string name, T Row::*member, std::string unit, std::string meaning) {
  const Row probe{};
  return {std::move(name), kind_of<T>(), std::move(unit), std::move(meaning), offset_in(probe, probe.*member), sizeof(T)};
}

template <class Row, class Inner, class T>
ColumnSpec column(std::string name, Inner Row::*outer, T Inner::*member, std::string unit, std::string meaning) {
  const Row probe{};
  return {std::move(name), kind_of<T>(), std::move(unit), std::move(meaning), offset_in(probe, (probe.*outer).*member),
          sizeof(T)};
}

TableSpec make_requests() {
  using R = RequestRecord;
  return {"requests", sizeof(R),
          {column("id", &R::id, "-", "request id"),
           column("session", &R::session, "-", "session the request belongs to"),
           column("parent", &R::parent, "-", "previous turn's id, -1 for a first turn"),
           column("turn", &R::turn, "-", "turn number, from 1"),
           column("instance", &R::instance, "-", "serving instance, -1 if never placed"),
           column("arrival", &R::arrival, "s", "arrival time"),
           column("first_token", &R::first_token, "s", "first output token, -1 if never"),
           column("finish", &R::finish, "s", "last output token, -1 if never"),
           column("ttft", &R::ttft, "s", "time to first token"),
           column("tpot", &R::tpot, "s", "time per output token"),
           column("e2e", &R::e2e, "s", "end-to-end latency"),
           column("input_tokens", &R::input_tokens, "tokens", "prompt length"),
           column("output_tokens", &R::output_tokens, "tokens", "output tokens"),
           column("cached_tokens", &R::cached_tokens, "tokens", "prompt tokens served from the KV cache"),
           column("hbm_tokens", &R::hbm_tokens, "tokens", "of which from HBM"),
           column("dram_tokens", &R::dram_tokens, "tokens", "of which loaded from host DRAM"),
           column("ssd_tokens", &R::ssd_tokens, "tokens", "of which loaded from the SSD"),
           column("remote_tokens", &R::remote_tokens, "tokens", "of which loaded from the remote pool"),
           column("load_wait", &R::load_wait, "s", "time waiting for KV loads"),
           column("preemptions", &R::preemptions, "-", "times preempted"),
           column("status", &R::status, "-", "completed, rejected or unfinished"),
           column("in_window", &R::in_window, "-", "1 if counted in the summary, 0 if in the warm-up or cool-down"),
           column("type", &R::type, "-", "request type (chat, api, a trace's type)"),
           column("category", &R::category, "-", "type x turn, as trace stats and wa key it (chat_1 ... chat_5+)"),
           column("service_class", &R::service_class, "-", "0 online; larger = less important (offline)"),
           column("prefill_instance", &R::prefill_instance, "-", "P/D: instance that ran the prefill, -1 if not disaggregated"),
           column("decode_instance", &R::decode_instance, "-", "P/D: instance chosen for the decode, -1 if not disaggregated"),
           column("kv_transfer_bytes", &R::kv_transfer_bytes, "B", "P/D: context KV moved prefill -> decode, NaN if none"),
           column("kv_transfer_start", &R::kv_transfer_start, "s", "P/D: the KV move started (decode admission), NaN if none"),
           column("kv_transfer_end", &R::kv_transfer_end, "s", "P/D: the KV move's last byte arrived, NaN if none")}};
}

TableSpec make_tiers() {
  using T = TierRecord;
  return {"tiers", sizeof(T),
          {column("tier", &T::tier, "-", "hbm, dram, ssd or remote"),
           column("location", &T::location, "-", "instance or node index, 0 for remote"),
           column("capacity_blocks", &T::capacity_blocks, "blocks", "capacity"),
           column("lookup_blocks", &T::lookup_blocks, "blocks", "prompt blocks looked up here"),
           column("hit_blocks", &T::hit_blocks, "blocks", "of which found here"),
           column("loaded_blocks", &T::loaded_blocks, "blocks", "blocks loaded into HBM from here"),
           column("loaded_bytes", &T::loaded_bytes, "B", "bytes of those loads"),
           column("written_blocks", &T::written_blocks, "blocks", "blocks written here"),
           column("written_bytes", &T::written_bytes, "B", "bytes of those writes"),
           column("evicted_blocks", &T::evicted_blocks, "blocks", "blocks dropped for capacity"),
           column("occupancy_blocks", &T::occupancy_blocks, "blocks", "blocks held at the end")}};
}

TableSpec make_links() {
  using L = LinkRecord;
  return {"links", sizeof(L),
          {column("name", &L::name, "-", "link direction"), column("bytes", &L::bytes, "B", "KV bytes carried"),
           column("busy", &L::busy, "s", "time with a transfer in flight")}};
}

TableSpec make_tier_samples() {
  using S = TierSample;
  return {"timeseries/tier_occupancy", sizeof(S),
          {column("time", &S::time, "s", "sample time"), column("tier", &S::tier, "-", "row of /tiers"),
           column("occupancy_blocks", &S::occupancy_blocks, "blocks", "blocks held")}};
}

TableSpec make_instance_samples() {
  using S = InstanceSample;
  return {"timeseries/instances", sizeof(S),
          {column("time", &S::time, "s", "sample time"), column("instance", &S::instance, "-", "instance index"),
           column("waiting", &S::waiting, "-", "requests queued, not yet admitted"),
           column("running", &S::running, "-", "requests admitted (prefilling or decoding)"),
           column("batch_tokens", &S::batch_tokens, "tokens", "tokens computed by the step in progress"),
           column("hbm_blocks", &S::hbm_blocks, "blocks", "KV blocks held in HBM")}};
}

TableSpec make_link_samples() {
  using S = LinkSample;
  return {"timeseries/links", sizeof(S),
          {column("time", &S::time, "s", "sample time"), column("link", &S::link, "-", "SimGrid link name"),
           column("utilization", &S::utilization, "-", "fraction of the link's bandwidth in use")}};
}

TableSpec make_summary() {
  using S = Summary;
  using P = Percentiles;
  TableSpec t{"summary", sizeof(S),
              {column("requests", &S::requests, "-", "requests released"),
               column("completed", &S::completed, "-", "completed requests"),
               column("rejected", &S::rejected, "-", "rejected requests"),
               column("unfinished", &S::unfinished, "-", "unfinished requests"),
               column("sim_duration", &S::sim_duration, "s", "simulated time"),
               column("throughput_rps", &S::throughput_rps, "1/s", "completed / sim_duration"),
               column("output_tokens_per_s", &S::output_tokens_per_s, "tokens/s", "output token throughput")}};
  const std::pair<const char*, Percentiles S::*> latencies[] = {{"ttft", &S::ttft}, {"tpot", &S::tpot}, {"e2e", &S::e2e}};
  for (const auto& [prefix, member] : latencies) {
    const std::string p = prefix;
    t.columns.push_back(column(p + "_p50", member, &P::p50, "s", p + " median"));
    t.columns.push_back(column(p + "_p90", member, &P::p90, "s", p + " 90th percentile"));
    t.columns.push_back(column(p + "_p99", member, &P::p99, "s", p + " 99th percentile"));
    t.columns.push_back(column(p + "_mean", member, &P::mean, "s", p + " mean"));
  }
  t.columns.push_back(column("prefix_hit_ratio", &S::prefix_hit_ratio, "-", "cached / input tokens"));
  t.columns.push_back(column("preemptions", &S::preemptions, "-", "preemptions over all requests"));
  t.columns.push_back(column("wall_time", &S::wall_time, "s", "real time spent simulating"));
  t.columns.push_back(column("requests_per_wall_second", &S::requests_per_wall_second, "1/s", "simulator speed"));
  t.columns.push_back(column("excluded", &S::excluded, "-", "requests of the warm-up and cool-down, left out"));
  t.columns.push_back(column("window_duration", &S::window_duration, "s", "denominator of the rates"));
  t.columns.push_back(column("slo_attainment", &S::slo_attainment, "-", "fraction of requests meeting the SLOs"));
  t.columns.push_back(column("slo_pass", &S::slo_pass, "-", "1 if every SLO bound holds"));
  t.columns.push_back(column("goodput_rps", &S::goodput_rps, "1/s", "requests meeting the SLOs per second"));
  t.columns.push_back(column("goodput_tokens_per_s", &S::goodput_tokens_per_s, "tokens/s", "their output tokens per second"));
  t.columns.push_back(column("overloaded", &S::overloaded, "-", "1 if the queue grows without bound"));
  t.columns.push_back(column("overload_growth", &S::overload_growth, "-", "s of extra first-token wait per s of arrivals"));
  t.columns.push_back(column("energy_joules", &S::energy_joules, "J", "energy of the serving GPUs over the run"));
  t.columns.push_back(column("average_power_watts", &S::average_power_watts, "W", "energy_joules / sim_duration"));
  t.columns.push_back(column("joules_per_output_token", &S::joules_per_output_token, "J", "per output token"));
  t.columns.push_back(column("cost", &S::cost, "-", "run cost at the [cost] prices"));
  t.columns.push_back(column("cost_per_million_output_tokens", &S::cost_per_million_output_tokens, "-",
                             "cost per million output tokens"));
  t.columns.push_back(column("kv_handoffs", &S::kv_handoffs, "-", "P/D: completed requests whose KV moved prefill -> decode"));
  t.columns.push_back(column("kv_transfer_mean", &S::kv_transfer_mean, "s", "P/D: mean duration of those KV moves"));
  t.columns.push_back(column("kv_transfer_p99", &S::kv_transfer_p99, "s", "P/D: their 99th percentile"));
  return t;
}

TableSpec make_energy() {
  using E = EnergyRecord;
  return {"energy", sizeof(E),
          {column("instance", &E::instance, "-", "serving instance"),
           column("gpus", &E::gpus, "-", "its GPUs (tensor-parallel degree)"),
           column("idle_watts", &E::idle_watts, "W", "idle power of its GPUs"),
           column("peak_watts", &E::peak_watts, "W", "peak (TDP) power of its GPUs"),
           column("busy", &E::busy, "s", "time with a step running"),
           column("active", &E::active, "s", "sum of step duration x utilisation"),
           column("joules", &E::joules, "J", "energy over the run")}};
}

TableSpec make_energy_samples() {
  using E = EnergySample;
  return {"timeseries/energy", sizeof(E),
          {column("time", &E::time, "s", "end of the step that passed a sample time"),
           column("instance", &E::instance, "-", "serving instance"),
           column("joules", &E::joules, "J", "its energy from 0 to time")}};
}

TableSpec make_slo() {
  using O = SloRecord;
  return {"slo", sizeof(O),
          {column("name", &O::name, "-", "metric.statistic, e.g. ttft.p99"),
           column("limit", &O::limit, "s", "the bound"),
           column("measured", &O::measured, "s", "the run's statistic (inf when unserved requests decide it)"),
           column("margin", &O::margin, "s", "limit - measured, negative when violated"),
           column("pass", &O::pass, "-", "1 if measured <= limit")}};
}

TableSpec make_classes() {
  using C = ClassRecord;
  return {"classes", sizeof(C),
          {column("service_class", &C::service_class, "-", "0 online; larger = less important (offline)"),
           column("requests", &C::requests, "-", "requests of the class in the window"),
           column("completed", &C::completed, "-", "of which completed"),
           column("rejected", &C::rejected, "-", "of which rejected"),
           column("unfinished", &C::unfinished, "-", "of which unfinished at the end"),
           column("preemptions", &C::preemptions, "-", "preemptions of the class's requests"),
           column("ttft_p50", &C::ttft_p50, "s", "median TTFT of its completed requests"),
           column("ttft_p99", &C::ttft_p99, "s", "99th percentile TTFT"),
           column("tpot_p50", &C::tpot_p50, "s", "median TPOT (requests of more than one output token)"),
           column("tpot_p99", &C::tpot_p99, "s", "99th percentile TPOT"),
           column("e2e_p50", &C::e2e_p50, "s", "median end-to-end latency"),
           column("e2e_p99", &C::e2e_p99, "s", "99th percentile end-to-end latency"),
           column("throughput_rps", &C::throughput_rps, "1/s", "completed requests / window_duration"),
           column("output_tokens_per_s", &C::output_tokens_per_s, "1/s", "output tokens of completed requests / window_duration"),
           column("slo_attainment", &C::slo_attainment, "-", "fraction of its requests meeting every per-request target"),
           column("goodput_rps", &C::goodput_rps, "1/s", "its requests meeting the SLOs / window_duration"),
           column("goodput_tokens_per_s", &C::goodput_tokens_per_s, "1/s", "their output tokens / window_duration")}};
}

TableSpec make_groups() {
  using G = GroupRecord;
  return {"groups", sizeof(G),
          {column("name", &G::name, "-", "group name ([[instances]] name; \"instances\" for a single [instances] table)"),
           column("role", &G::role, "-", "mixed, prefill or decode"),
           column("model", &G::model, "-", "model card the group serves"),
           column("gpu", &G::gpu, "-", "GPU card of its nodes"),
           column("tp", &G::tp, "-", "GPUs per instance"),
           column("instances", &G::instances, "-", "instances in the group (consecutive indices, in group order)"),
           column("requests", &G::requests, "-", "requests in the window placed on its instances"),
           column("completed", &G::completed, "-", "of which completed"),
           column("preemptions", &G::preemptions, "-", "preemptions of those requests"),
           column("throughput_rps", &G::throughput_rps, "1/s", "completed requests / window_duration"),
           column("output_tokens_per_s", &G::output_tokens_per_s, "1/s", "output tokens of completed requests / window_duration"),
           column("ttft_p50", &G::ttft_p50, "s", "median TTFT of its completed requests (0 without)"),
           column("ttft_p99", &G::ttft_p99, "s", "99th percentile TTFT"),
           column("tpot_p50", &G::tpot_p50, "s", "median TPOT (requests of more than one output token)"),
           column("tpot_p99", &G::tpot_p99, "s", "99th percentile TPOT"),
           column("e2e_p50", &G::e2e_p50, "s", "median end-to-end latency"),
           column("e2e_p99", &G::e2e_p99, "s", "99th percentile end-to-end latency"),
           column("prefix_hit_ratio", &G::prefix_hit_ratio, "-", "cached / input tokens of its completed requests")}};
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

const TableSpec& requests_table() {
  static const TableSpec t = make_requests();
  return t;
}
const TableSpec& tiers_table() {
  static const TableSpec t = make_tiers();
  return t;
}
const TableSpec& links_table() {
  static const TableSpec t = make_links();
  return t;
}
const TableSpec& instance_samples_table() {
  static const TableSpec t = make_instance_samples();
  return t;
}

const TableSpec& link_samples_table() {
  static const TableSpec t = make_link_samples();
  return t;
}

const TableSpec& tier_samples_table() {
  static const TableSpec t = make_tier_samples();
  return t;
}
const TableSpec& summary_table() {
  static const TableSpec t = make_summary();
  return t;
}

const TableSpec& energy_table() {
  static const TableSpec t = make_energy();
  return t;
}

const TableSpec& energy_samples_table() {
  static const TableSpec t = make_energy_samples();
  return t;
}

const TableSpec& classes_table() {
  static const TableSpec t = make_classes();
  return t;
}

const TableSpec& groups_table() {
  static const TableSpec t = make_groups();
  return t;
}

const TableSpec& slo_table() {
  static const TableSpec t = make_slo();
  return t;
}

std::vector<const TableSpec*> all_tables() {
  return {&requests_table(), &tiers_table(), &links_table(), &tier_samples_table(), &instance_samples_table(),
          &link_samples_table(), &summary_table(), &slo_table(), &classes_table(), &energy_table(),
          &energy_samples_table(), &groups_table()};
}

std::string numpy_type(const ColumnSpec& c) {
  switch (c.kind) {
    case ColumnKind::u8_status: return "uint8";
    case ColumnKind::u8: return "uint8";
    case ColumnKind::u32: return "uint32";
    case ColumnKind::i32: return "int32";
    case ColumnKind::u64: return "uint64";
    case ColumnKind::i64: return "int64";
    case ColumnKind::f64: return "float64";
    case ColumnKind::fixed_string: return "S" + std::to_string(c.size);
  }
  return "?";
}

std::string schema_json() {
  std::string out = "{\"schema_version\":" + std::to_string(kSchemaVersion) + ",\"tables\":{";
  bool first_table = true;
  for (const auto* table : all_tables()) {
    out += (first_table ? "" : ",") + json_string(table->path) + ":[";
    first_table = false;
    bool first = true;
    for (const auto& c : table->columns) {
      out += std::string(first ? "" : ",") + "{\"name\":" + json_string(c.name) + ",\"type\":" +
             json_string(numpy_type(c)) + ",\"unit\":" + json_string(c.unit) + "}";
      first = false;
    }
    out += "]";
  }
  out += "},\"status\":{";
  bool first = true;
  for (const auto s : {RequestStatus::completed, RequestStatus::rejected, RequestStatus::unfinished}) {
    out += std::string(first ? "" : ",") + json_string(to_string(s)) + ":" + std::to_string(int(s));
    first = false;
  }
  return out + "}}";
}

}  // namespace kvsim::results
