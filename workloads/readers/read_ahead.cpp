// Read-ahead source (see read_ahead.hpp): one producer thread, a bounded queue of batches.
#include "workloads/readers/read_ahead.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace kvsim::workload {

namespace {

class ReadAhead final : public Source {
 public:
  explicit ReadAhead(std::unique_ptr<Source> inner)
      : inner_(std::move(inner)), expected_(inner_->expected_count()), categories_(inner_->categories()) {
    known_categories_ = categories_.size();
    producer_ = std::thread([this] { produce(); });
  }
  ~ReadAhead() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    producer_.join();
  }

  std::optional<Request> next() override {
    if (!fetch()) return std::nullopt;
    return std::move(current_.requests[position_++]);
  }

  // Swaps rather than moves: the consumer's previous Request goes back with the batch, and
  // the producer refills it in place (its block storage reused).
  bool next_into(Request& into) override {
    if (!fetch()) return false;
    std::swap(into, current_.requests[position_++]);
    return true;
  }

  std::uint64_t expected_count() const override { return expected_; }
  double progress(double) const override { return progress_.load(std::memory_order_relaxed); }
  const std::vector<std::string>& categories() const override { return categories_; }
  std::vector<std::pair<std::string, std::uint64_t>> report() const override {
    return finished_ ? inner_->report() : std::vector<std::pair<std::string, std::uint64_t>>{};
  }

 private:
  struct Batch {
    std::vector<Request> requests;            // the first `count` are this batch's
    std::size_t count = 0;
    std::vector<std::string> new_categories;  // names the inner source added for this batch
    std::exception_ptr error;                 // the inner source failed after these requests
    bool last = false;
  };
  static constexpr std::size_t kBatch = 256;  // requests per hand-over (amortises the locking)
  static constexpr std::size_t kQueued = 4;   // batches read ahead at most (bounded memory)
  static constexpr std::size_t kSpare = 1;    // consumed batches kept for refilling
  // Block storage larger than this (ids) is released rather than kept for reuse, so that a
  // few very long prompts do not pin their memory in every recycled request.
  static constexpr std::size_t kKeptBlocks = 1024;

  // Makes current_ hold an unread request; false at the end (rethrows the inner source's error).
  bool fetch() {
    while (position_ == current_.count) {
      if (current_.last) {
        if (current_.error) std::rethrow_exception(std::exchange(current_.error, nullptr));
        return false;
      }
      for (Request& r : current_.requests)
        if (r.blocks.capacity() > kKeptBlocks) std::vector<BlockId>().swap(r.blocks);
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty(); });
      Batch spent = std::exchange(current_, std::move(queue_.front()));
      queue_.pop_front();
      if (spare_.size() < kSpare && !spent.requests.empty()) spare_.push_back(std::move(spent));
      lock.unlock();
      changed_.notify_all();
      position_ = 0;
      for (auto& name : current_.new_categories) categories_.push_back(std::move(name));
      if (current_.last) finished_ = true;
    }
    return true;
  }

  void produce() {
    bool more = true;
    while (more) {
      Batch batch;
      {
        std::lock_guard lock(mutex_);
        if (!spare_.empty()) {
          batch = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      batch.count = 0;
      batch.new_categories.clear();
      batch.error = nullptr;
      batch.last = false;
      batch.requests.resize(kBatch);
      try {
        while (batch.count < kBatch) {
          if (!inner_->next_into(batch.requests[batch.count])) {
            more = false;
            break;
          }
          ++batch.count;
        }
      } catch (...) {
        batch.error = std::current_exception();
        more = false;
      }
      batch.last = !more;
      // The inner source's progress as of the batch's last request (read here, on the only
      // thread that touches inner_).
      progress_.store(inner_->progress(batch.count == 0 ? 0.0 : batch.requests[batch.count - 1].arrival),
                      std::memory_order_relaxed);
      const auto& names = inner_->categories();  // only this thread touches inner_ now
      for (std::size_t i = known_categories_; i < names.size(); ++i) batch.new_categories.push_back(names[i]);
      known_categories_ = names.size();
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || queue_.size() < kQueued; });
      if (stop_) return;
      queue_.push_back(std::move(batch));
      lock.unlock();
      changed_.notify_all();
    }
  }

  std::unique_ptr<Source> inner_;
  std::uint64_t expected_ = 0;
  std::vector<std::string> categories_;  // consumer side
  std::size_t known_categories_ = 0;     // producer side
  Batch current_;
  std::size_t position_ = 0;
  bool finished_ = false;
  std::atomic<double> progress_{-1.0};

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  std::vector<Batch> spare_;  // consumed batches whose requests the producer refills
  bool stop_ = false;
  std::thread producer_;
};

}  // namespace

std::unique_ptr<Source> read_ahead(std::unique_ptr<Source> inner) {
  return std::make_unique<ReadAhead>(std::move(inner));
}

}  // namespace kvsim::workload
