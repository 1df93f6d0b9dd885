#include "sim/engine/transfer_service.hpp"

#include <cmath>
#include <cstring>

#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(kvsim_transfer, kvsim_engine, "KV transfers (Comms over the platform's links)");

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

TransferService::TransferService(const Platform& platform, std::size_t owners) : in_flight_(owners), activities_(owners) {
  for (auto* link : platform.all_links) {
    link_index_.emplace(link, usage_.size());
    usage_.push_back({link->get_name()});
  }
}

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
  activities_[owner].push_back(std::move(comm));
  in_flight_[owner].push_back(std::move(t));
}

Transfer TransferService::complete(std::size_t owner, std::size_t index, double now) {
  auto& list = in_flight_[owner];
  Transfer t = std::move(list[index]);
  list.erase(list.begin() + long(index));
  activities_[owner].erase(activities_[owner].begin() + long(index));
  for (const std::size_t link : *t.links) {
    auto& u = usage_[link];
    if (--u.active == 0) u.busy += now - u.busy_since;
  }
  return t;
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
