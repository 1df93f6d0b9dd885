// The only place where SimGrid Comms are created: every byte of KV that moves (a load into
// HBM, a demotion, a write-through, later a prefill→decode hand-off) goes through
// start(src, dst, bytes, owner, request), shares the links of its route with every other
// transfer in flight, and is accounted per link (bytes, busy time).
//
// Each transfer belongs to an owner (an instance). A transfer that carries the id of a
// request (a part of its load, or of a P/D hand-off) is waited on by its owner, which calls
// complete() for the one that finished and so knows when the load is whole. A write
// (request == kNoRequest: a demotion, a write-through, a move between lower tiers) changes
// nothing its owner waits for: the hierarchy decided its effect on tier contents when it
// started it. So its owner does not wait on it (a wake-up per write cost a context switch,
// a re-armed wait over every activity and a cut multi-step plan: about 8 per request in a
// cluster run), and it is completed here, in SimGrid's maestro, at the instant its network
// action finishes, with the same accounting as a waited transfer.
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

  // Only one service at a time (one simulation per process): SimGrid reports finished
  // network actions to a process-wide callback, which forwards writes to it.
  ~TransferService();
  TransferService(const TransferService&) = delete;
  TransferService& operator=(const TransferService&) = delete;

  // Starts moving bytes from src to dst now, on behalf of owner (and of request's load).
  void start(simgrid::s4u::Host* src, simgrid::s4u::Host* dst, double bytes, std::size_t owner,
             std::uint64_t request = Transfer::kNoRequest);
  // No transfer of owner in flight, waited on or not.
  bool idle(std::size_t owner) const { return in_flight_[owner].empty() && writes_[owner].empty(); }
  // The owner's waited transfers in flight, in start order (what its actor waits on).
  const std::vector<simgrid::s4u::ActivityPtr>& activities(std::size_t owner) const { return activities_[owner]; }
  // The owner's writes in flight, in start order. They complete by themselves; an owner
  // waits on them only when a write's end is all it can wait for (its last writes before
  // its driver ends) or, to stay exact, when it cannot plan (sim/engine/instance_driver.cpp).
  const std::vector<simgrid::s4u::ActivityPtr>& writes(std::size_t owner) const { return writes_[owner]; }
  // The owner's transfer at index (into activities(owner)) has completed at now.
  Transfer complete(std::size_t owner, std::size_t index, double now);
  // The owner's driver has ended: its writes still in flight are no longer accounted when
  // they end, as when the owner completed its writes itself and stopped waiting.
  void close(std::size_t owner);

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
  // The write whose network action finished (SimGrid's maestro, at its finish time).
  void write_finished(const void* activity, double now);
  // Adds a finished transfer's link busy time.
  void release_links(const std::vector<std::size_t>& links, double now);

  std::vector<std::vector<Transfer>> in_flight_;  // per owner
  // Their Comms, side by side with in_flight_ (the same order): an owner waits once per
  // transfer or so, and a vector made for each wait cost an allocation and a reference
  // count per activity.
  std::vector<std::vector<simgrid::s4u::ActivityPtr>> activities_;
  // Writes in flight: per owner their Comms in start order, and by kernel activity (what a
  // finished network action names) their owner and route.
  struct Write {
    std::size_t owner;
    const std::vector<std::size_t>* links;
  };
  std::vector<std::vector<simgrid::s4u::ActivityPtr>> writes_;
  std::unordered_map<const void*, Write> write_of_;
  std::vector<simgrid::s4u::ActivityPtr> abandoned_;  // writes of closed owners, held to the end
  // Finished writes, released at the next start() by an actor: the callback runs while
  // SimGrid still marks the Comm running, and dropping the last reference then makes
  // SimGrid log a "freed before its completion" warning with a backtrace.
  std::vector<simgrid::s4u::ActivityPtr> finished_writes_;
};

}  // namespace kvsim::engine
