#include "sim/engine/transfer_service.hpp"

#include <cmath>
#include <cstring>

#include <algorithm>
#include <stdexcept>

#include <simgrid/kernel/resource/Action.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_transfer, kvsim_engine, "KV transfers (Comms over the platform's links)");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

// The service of the running simulation, for the process-wide callback below.
TransferService* current = nullptr;

}  // namespace

TransferService::TransferService(const Platform& platform, std::size_t owners)
    : in_flight_(owners), activities_(owners), writes_(owners) {
  if (current != nullptr) throw std::logic_error("a second TransferService while one is alive");
  current = this;
  for (auto* link : platform.all_links) {
    link_index_.emplace(link, usage_.size());
    usage_.push_back({link->get_name()});
  }
  // SimGrid 3.32 completes an s4u activity only when an actor waits on or tests it; the
  // kernel reports every network action's change of state, in maestro, at the instant it
  // happens. The signal has no way to disconnect, hence one connection per process and the
  // `current` indirection. Its argument is a kernel NetworkAction, a class whose only base
  // is resource::Action (the public part: state and activity) but whose definition is not
  // installed, hence the cast.
  static const bool connected = [] {
    sg4::Link::on_communication_state_change_cb(
        [](simgrid::kernel::resource::NetworkAction& network_action, simgrid::kernel::resource::Action::State) {
          const auto& action = reinterpret_cast<const simgrid::kernel::resource::Action&>(network_action);
          if (current != nullptr && action.get_state() == simgrid::kernel::resource::Action::State::FINISHED)
            current->write_finished(action.get_activity(), sg4::Engine::get_clock());
        });
    return true;
  }();
  (void)connected;
}

TransferService::~TransferService() { current = nullptr; }

const std::vector<std::size_t>& TransferService::route(sg4::Host* src, sg4::Host* dst) {
  auto [it, fresh] = routes_.try_emplace({src, dst});
  if (fresh) {
    std::vector<sg4::Link*> links;
    src->route_to(dst, links, nullptr);
    for (const auto* link : links) it->second.push_back(link_index_.at(link));
  }
  return it->second;
}

void TransferService::start(sg4::Host* src, sg4::Host* dst, double bytes, std::size_t owner, std::uint64_t request) {
  // Only once an actor runs is SimGrid done with them: an eviction timer starts demotions
  // from maestro between a write's network action finishing and SimGrid handling its end
  // (due_evictions.hpp).
  if (!sg4::Actor::is_maestro()) finished_writes_.clear();
  const double now = sg4::Engine::get_clock();
  Transfer t;
  t.request = request;
  t.bytes = bytes;
  t.links = &route(src, dst);
  sg4::CommPtr comm = sg4::Comm::sendto_async(src, dst, std::uint64_t(std::llround(bytes)));
  for (const std::size_t link : *t.links) {
    auto& u = usage_[link];
    u.bytes += bytes;
    if (u.active++ == 0) u.busy_since = now;
  }
  XBT_VERB("%s -> %s: %.0f B (owner %zu)", src->get_cname(), dst->get_cname(), bytes, owner);
  if (request == Transfer::kNoRequest) {
    write_of_.emplace(comm->get_impl(), Write{owner, t.links});
    writes_[owner].push_back(std::move(comm));
    return;
  }
  activities_[owner].push_back(std::move(comm));
  in_flight_[owner].push_back(std::move(t));
}

void TransferService::release_links(const std::vector<std::size_t>& links, double now) {
  for (const std::size_t link : links) {
    auto& u = usage_[link];
    if (--u.active == 0) u.busy += now - u.busy_since;
  }
}

Transfer TransferService::complete(std::size_t owner, std::size_t index, double now) {
  auto& list = in_flight_[owner];
  Transfer t = std::move(list[index]);
  list.erase(list.begin() + long(index));
  activities_[owner].erase(activities_[owner].begin() + long(index));
  release_links(*t.links, now);
  return t;
}

void TransferService::write_finished(const void* activity, double now) {
  const auto it = write_of_.find(activity);
  if (it == write_of_.end()) return;  // a waited transfer, or a write of a closed owner
  const Write write = it->second;
  write_of_.erase(it);
  auto& comms = writes_[write.owner];
  const auto comm = std::find_if(comms.begin(), comms.end(), [&](const auto& c) { return c->get_impl() == activity; });
  finished_writes_.push_back(std::move(*comm));
  comms.erase(comm);
  release_links(*write.links, now);
}

void TransferService::close(std::size_t owner) {
  for (auto& comm : writes_[owner]) {
    write_of_.erase(comm->get_impl());
    abandoned_.push_back(std::move(comm));
  }
  writes_[owner].clear();
}

std::vector<results::LinkRecord> TransferService::link_records() const {
  std::vector<results::LinkRecord> rows;
  for (const auto& u : usage_) {
    if (u.bytes == 0) continue;  // untouched links would only bloat the table
    results::LinkRecord row;
    std::strncpy(row.name, u.name.c_str(), sizeof row.name - 1);
    row.bytes = u.bytes;
    row.busy = u.busy;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace kvsim::engine
