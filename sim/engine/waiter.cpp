#include "sim/engine/waiter.hpp"

#include <algorithm>

#include <simgrid/Exception.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

namespace kvsim::engine {

namespace sg4 = simgrid::s4u;

namespace {
// Longest single wait: SimGrid timers are doubles of the absolute time, so a wait for "no
// deadline" is cut into slices of this length.
constexpr double kLongestWait = 1e9;
}  // namespace

ssize_t Waiter::wait(double deadline, const std::vector<sg4::ActivityPtr>& activities,
                     const std::vector<sg4::ActivityPtr>& more) {
  // Starting the doorbell is a simcall: the actor yields there, and another actor may
  // interrupt it before it actually waits. interrupted_ records such an
  // interrupt so that it is not lost (a lost interrupt would leave an instance asleep with
  // a request in its queue, or let a multi-step plan run past an arrival).
  interrupted_ = false;
  while (true) {
    const double until = std::min(deadline, sg4::Engine::get_clock() + kLongestWait);
    // Recounted each slice: writes in `more` complete by themselves (TransferService).
    const std::size_t count = activities.size() + more.size();
    if (count == 0) {
      // No simcall between here and the acquire: an interrupt finds the actor waiting.
      mode_ = Mode::condition;
      bool timed_out = false;
      if (!interrupted_) {
        const double now = sg4::Engine::get_clock();
        timed_out = semaphore_->acquire_timeout(until > now ? until - now : 0.0);
      } else {
        semaphore_->acquire();  // the interrupt's token
      }
      mode_ = Mode::idle;
      // An interrupt that came as the timer fired left its token: take it, or the next wait
      // would end at once.
      if (timed_out && interrupted_) semaphore_->acquire();
      if (!timed_out || (interrupted_ && until < deadline)) return kInterrupted;
      if (until < deadline) continue;  // a slice of a longer wait ended
      return kDeadline;
    }
    mode_ = Mode::activities;
    if (!doorbell_) {
      doorbell_ = sg4::this_actor::exec_init(kLongestWait * sg4::this_actor::get_host()->get_speed());
      doorbell_->start();
    }
    if (interrupted_) {  // interrupt() has cancelled the doorbell
      mode_ = Mode::idle;
      return kInterrupted;
    }
    waited_.assign(activities.begin(), activities.end());
    waited_.insert(waited_.end(), more.begin(), more.end());
    waited_.push_back(doorbell_);
    ssize_t index;
    try {
      index = sg4::Activity::wait_any_for(waited_, std::max(0.0, until - sg4::Engine::get_clock()));
    } catch (const simgrid::CancelException&) {
      mode_ = Mode::idle;
      waited_.clear();
      return kInterrupted;
    }
    mode_ = Mode::idle;
    waited_.clear();
    if (index == ssize_t(count)) {  // the doorbell ran out: ring a new one
      doorbell_ = nullptr;
      continue;
    }
    if (index < 0) {  // the timeout
      if (interrupted_ && until < deadline) return kInterrupted;
      if (until < deadline) continue;  // a slice of a longer wait ended
      return kDeadline;
    }
    return index;
  }
}

void Waiter::interrupt() {
  if (mode_ == Mode::condition) {
    // One token per wait: later interrupts of the same wait change nothing.
    if (interrupted_) return;
    interrupted_ = true;
    semaphore_->release();
  } else if (mode_ == Mode::activities) {
    interrupted_ = true;
    close();
  }
}

void Waiter::close() {
  if (doorbell_ && doorbell_->get_state() == sg4::Activity::State::STARTED) doorbell_->cancel();
  doorbell_ = nullptr;
}

}  // namespace kvsim::engine
