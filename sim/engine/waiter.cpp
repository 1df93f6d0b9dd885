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

ssize_t Waiter::wait(double deadline, std::vector<sg4::ActivityPtr> activities) {
  // Locking the mutex and starting the timer are simcalls: the actor yields there, and
  // another actor may interrupt it before it actually waits. interrupted_ records such an
  // interrupt so that it is not lost (a lost interrupt would leave an instance asleep with
  // a request in its queue, or let a multi-step plan run past an arrival).
  interrupted_ = false;
  while (true) {
    const double until = std::min(deadline, sg4::Engine::get_clock() + kLongestWait);
    if (activities.empty()) {
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
    const double span = std::max(0.0, until - sg4::Engine::get_clock());
    mode_ = Mode::activities;
    timer_ = sg4::this_actor::exec_init(span * sg4::this_actor::get_host()->get_speed());
    timer_->start();
    if (interrupted_) {
      if (timer_->get_state() == sg4::Activity::State::STARTED) timer_->cancel();
      timer_ = nullptr;
      mode_ = Mode::idle;
      return kInterrupted;
    }
    activities.push_back(timer_);
    ssize_t index;
    try {
      index = sg4::Activity::wait_any(activities);
    } catch (const simgrid::CancelException&) {
      mode_ = Mode::idle;
      timer_ = nullptr;
      return kInterrupted;
    }
    mode_ = Mode::idle;
    if (std::size_t(index) == activities.size() - 1) {
      timer_ = nullptr;
      activities.pop_back();
      if (interrupted_ && until < deadline) return kInterrupted;
      if (until < deadline) continue;  // a slice of a longer wait ended
      return kDeadline;
    }
    timer_->cancel();
    timer_ = nullptr;
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
    // A timer that already finished (its actor is about to resume) must not be touched.
    if (timer_ && timer_->get_state() == sg4::Activity::State::STARTED) timer_->cancel();
  }
}

}  // namespace kvsim::engine
