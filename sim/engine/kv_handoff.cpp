#include "sim/engine/kv_handoff.hpp"

#include <algorithm>
#include <stdexcept>

#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_handoff, kvsim_engine, "prefill/decode hand-offs");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;
using scheduling::routing::PrefixHit;
using scheduling::routing::RouterView;

// A router's view of a subset of the instances: its index i is instance members[i].
class KvHandoff::MemberView final : public RouterView {
 public:
  MemberView(const RouterView& base, const std::vector<std::size_t>& members, std::uint64_t seed)
      : base_(base), members_(members), seed_(seed) {}
  PrefixHit prefix_hit(std::size_t i, const workload::Request& request, int deepest) const override {
    return base_.prefix_hit(members_[i], request, deepest);
  }
  double load_seconds(std::size_t i, const PrefixHit& hit) const override { return base_.load_seconds(members_[i], hit); }
  double prefill_seconds(std::size_t i, std::uint32_t tokens, std::uint32_t cached) const override {
    return base_.prefill_seconds(members_[i], tokens, cached);
  }
  bool would_load(std::size_t i, const PrefixHit& hit) const override { return base_.would_load(members_[i], hit); }
  std::uint32_t block_size() const override { return base_.block_size(); }
  std::uint64_t seed() const override { return seed_; }

 private:
  const RouterView& base_;
  const std::vector<std::size_t>& members_;
  std::uint64_t seed_;
};

// A decode instance's engine asks for its context KV through this.
class KvHandoff::Receiver final : public scheduling::KvReceiver {
 public:
  Receiver(KvHandoff& handoff, Instance& to) : handoff_(handoff), to_(to) {}
  void receive(std::uint64_t request, std::uint64_t tokens) override { handoff_.receive(to_, request, tokens); }

 private:
  KvHandoff& handoff_;
  Instance& to_;
};

std::unique_ptr<KvHandoff> KvHandoff::make(RunState& run, const RouterView& base) {
  if (!run.scenario.disaggregated()) return nullptr;
  return std::make_unique<KvHandoff>(run, base);
}

KvHandoff::KvHandoff(RunState& run, const RouterView& base) : run_(run) {
  const auto& s = run.scenario;
  run.views.clear();
  for (const auto& instance : run.instances) {
    const auto i = std::size_t(instance->index);
    const std::string& role = s.groups[std::size_t(s.instance_group[i])].role;
    is_prefill_.push_back(role == "prefill");
    is_decode_.push_back(role == "decode");
    if (role == "decode") {
      decode_.push_back(i);
      decode_views_.push_back(instance->engine.get());
      receivers_.push_back(std::make_unique<Receiver>(*this, *instance));
      instance->engine->set_receiver(receivers_.back().get());
    } else {
      entry_.push_back(i);
      run.views.push_back(instance->engine.get());
      if (role == "prefill") ++prefill_drivers_;
    }
  }
  entry_view_ = std::make_unique<MemberView>(base, entry_, base.seed());
  // The decode router draws from its own streams, not a copy of the arrival router's.
  decode_view_ = std::make_unique<MemberView>(base, decode_, base.seed() ^ 0x9e3779b97f4a7c15ull);
  router_ = scheduling::routing::make_router(s.decode_router, s.decode_router_params);
  router_->attach(*decode_view_);
}

KvHandoff::~KvHandoff() = default;

const RouterView& KvHandoff::entry_view() const { return *entry_view_; }

std::string KvHandoff::decode_rejection(const workload::Request& request) const {
  for (const auto* engine : decode_views_)
    if (std::string reason = engine->rejection_reason(request); !reason.empty()) return "decode side: " + reason;
  return {};
}

void KvHandoff::hand_off(const scheduling::Sequence& seq, const Instance& from) {
  const double now = seq.first_token;
  const std::size_t to = decode_[router_->route(seq.request, decode_views_, now)];
  Instance& decode = *run_.instances[to];
  XBT_VERB("request %llu: prefill done on instance %d at %.9f, decode on instance %d",
           (unsigned long long)seq.request.id, from.index, now, decode.index);
  source_[seq.request.id] = from.index;
  run_.recorder.handed_off(seq.request.id, from.index, decode.index);
  decode.engine->enqueue_prefilled(seq);
  decode.interrupt(now);
}

void KvHandoff::receive(Instance& to, std::uint64_t request, std::uint64_t tokens) {
  const auto source = source_.find(request);
  if (source == source_.end())
    throw std::logic_error("instance " + std::to_string(to.index) + " pulls the KV of request " +
                           std::to_string(request) + ", which no prefill instance handed off");
  const Instance& from = *run_.instances[std::size_t(source->second)];
  source_.erase(source);
  // Both sides serve one model (instance_groups.cpp refuses P/D across models).
  const double bytes = double(tokens) * to.model->kv_bytes_per_token();
  // Each side splits the KV heads evenly over its GPUs: in units of 1 / (P x D) of the
  // heads, prefill GPU i holds [i·D, (i+1)·D) and decode GPU j holds [j·P, (j+1)·P). One
  // Comm per overlap of the two, carrying that share of the bytes: max(P, D) Comms when one
  // tp divides the other (shard k from prefill GPU k·P/max to decode GPU k·D/max), and
  // P + D - gcd(P, D) otherwise (tp 2 to 3: 2/6, 1/6, 1/6, 2/6 of the bytes).
  const std::size_t tp_from = from.gpus.size(), tp_to = to.gpus.size();
  const std::size_t units = tp_from * tp_to;
  int parts = 0;
  for (std::size_t i = 0, j = 0, at = 0; at < units; ++parts) {
    const std::size_t end = std::min((i + 1) * tp_to, (j + 1) * tp_from);
    run_.transfers->start(from.gpus[i], to.gpus[j], bytes * double(end - at) / double(units), std::size_t(to.index),
                          request);
    at = end;
    if (end == (i + 1) * tp_to) ++i;
    if (end == (j + 1) * tp_from) ++j;
  }
  moving_[request] = {parts, from.index};
  run_.recorder.kv_transfer_started(request, bytes, sg4::Engine::get_clock());
}

bool KvHandoff::transfer_done(Instance& to, std::uint64_t request, double now) {
  const auto moving = moving_.find(request);
  if (moving == moving_.end()) return false;
  if (--moving->second.parts > 0) return true;
  Instance& from = *run_.instances[std::size_t(moving->second.from)];
  moving_.erase(moving);
  run_.recorder.kv_transfer_ended(request, now);
  to.engine->load_done(request, now);
  // The prefill side's copy is no longer needed: its blocks become evictable cache, which
  // may let a prefill waiting for memory start.
  from.engine->release_handed_off(request);
  from.interrupt(now);
  XBT_VERB("instance %d: KV of request %llu arrived at %.9f", to.index, (unsigned long long)request, now);
  return true;
}

bool KvHandoff::more_coming(const Instance& instance) const {
  return is_decode_[std::size_t(instance.index)] && prefill_drivers_ > 0;
}

void KvHandoff::driver_ended(const Instance& instance) {
  if (!is_prefill_[std::size_t(instance.index)] || --prefill_drivers_ > 0) return;
  for (const std::size_t d : decode_) run_.instances[d]->interrupt(-1);
}

}  // namespace kvsim::engine
