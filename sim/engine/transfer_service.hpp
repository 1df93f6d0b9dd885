// The only place where SimGrid Comms are created: every byte of KV that moves (a load into
// HBM, a demotion, a write-through, later a prefill→decode hand-off) goes through
// start(src, dst, bytes, owner, request), shares the links of its route with every other
// transfer in flight, and is accounted per link (bytes, busy time).
//
// Each transfer belongs to an owner (an instance), which waits on its owner's activities
// and calls complete() for the one that finished. A transfer may carry the id of the
// request whose load it is part of, so the owner knows when that load is whole.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <simgrid/s4u/Activity.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

#include "sim/engine/platform.hpp"
#include "sim/results/records.hpp"

namespace kvsim::engine {

struct Transfer {
  static constexpr std::uint64_t kNoRequest = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t request = kNoRequest;  // load it belongs to; kNoRequest for writes
  const std::vector<std::size_t>* links = nullptr;  // its route, as TransferService link rows
  double bytes = 0;
};

class TransferService {
 public:
  TransferService(const Platform& platform, std::size_t owners);

  // Starts moving bytes from src to dst now, on behalf of owner (and of request's load).
  void start(simgrid::s4u::Host* src, simgrid::s4u::Host* dst, double bytes, std::size_t owner,
             std::uint64_t request = Transfer::kNoRequest);
  bool idle(std::size_t owner) const { return in_flight_[owner].empty(); }
  // The owner's transfers in flight, in start order (what its actor waits on).
  const std::vector<simgrid::s4u::ActivityPtr>& activities(std::size_t owner) const { return activities_[owner]; }
  // The owner's transfer at index (into activities(owner)) has completed at now.
  Transfer complete(std::size_t owner, std::size_t index, double now);

  // Bytes and busy time of every link that carried a transfer.
  std::vector<results::LinkRecord> link_records() const;

 private:
  struct Usage {
    std::string name;
    double bytes = 0;
    double busy = 0;  // s with at least one transfer in flight
    int active = 0;
    double busy_since = 0;
  };
  struct HostPairHash {
    std::size_t operator()(const std::pair<const simgrid::s4u::Host*, const simgrid::s4u::Host*>& p) const {
      return std::hash<const void*>{}(p.first) * 31 + std::hash<const void*>{}(p.second);
    }
  };
  // The rows in usage_ of the links from src to dst, looked up in SimGrid once per pair.
  const std::vector<std::size_t>& route(simgrid::s4u::Host* src, simgrid::s4u::Host* dst);

  std::vector<Usage> usage_;
  std::unordered_map<const simgrid::s4u::Link*, std::size_t> link_index_;
  // Routes by (src, dst). A cluster run starts a Comm per request-tier move between a few
  // hundred host pairs, and SimGrid's lookup walks the zone hierarchy each time; nodes of
  // an unordered_map stay put, so transfers keep a pointer to their route's entry.
  std::unordered_map<std::pair<const simgrid::s4u::Host*, const simgrid::s4u::Host*>, std::vector<std::size_t>,
                     HostPairHash>
      routes_;
  std::vector<std::vector<Transfer>> in_flight_;  // per owner
  // Their Comms, side by side with in_flight_ (the same order): an owner waits once per
  // transfer or so, and a vector made for each wait cost an allocation and a reference
  // count per activity.
  std::vector<std::vector<simgrid::s4u::ActivityPtr>> activities_;
};

}  // namespace kvsim::engine
