// s3fifo — S3-FIFO (Yang, Zhang, Qiu, Yue & Rashmi, "FIFO queues are all you need for cache
// eviction", SOSP'23). Three FIFO queues: a small queue S for new blocks, a main queue M,
// and a ghost queue G of identities recently evicted from S. A hit increments the block's
// counter (capped at 3). A new block enters M if its identity is in G, S otherwise; a block
// coming back from a pin (accesses > 1) enters M. Eviction takes from S while S holds at
// least `small_fraction` of the candidates (or M is empty): S's oldest block moves to M
// (counter reset) if it was hit since it entered, otherwise it is evicted and its identity
// joins G. Otherwise M's oldest block is evicted if its counter is 0, else re-enters M with
// the counter decremented. G holds at most as many identities as M has blocks.
// Adaptation: the paper sizes S against the cache capacity; a policy here only knows its
// candidates (pinned blocks are not), so S is sized against the candidates.
// Parameter: small_fraction (default 0.1, the paper's). Amortised O(1).
#include <algorithm>

#include "models/kvcache/eviction/ghost_list.hpp"
#include "sim/util/error.hpp"

namespace kvsim::kvcache::eviction {

namespace {

class S3Fifo final : public Policy {
 public:
  S3Fifo(const CacheState& state, double small_fraction) : state_(state), small_fraction_(small_fraction) {}

  void resize(Slot slots) override {
    links_.resize(slots);
    freq_.resize(slots, 0);
    in_main_.resize(slots, 0);
  }
  void insert(Slot s) override {
    const BlockMeta& b = state_.blocks[s];
    freq_[s] = 0;
    const bool main = b.accesses > 1 || ghost_.remove(b.id);
    in_main_[s] = main;
    (main ? main_ : small_).push_back(links_, s);
  }
  void touch(Slot s) override { freq_[s] = std::uint8_t(std::min(3, freq_[s] + 1)); }
  void erase(Slot s) override { (in_main_[s] ? main_ : small_).remove(links_, s); }
  Slot victim() override {
    for (;;) {
      const double candidates = double(small_.size() + main_.size());
      if (!small_.empty() && (main_.empty() || double(small_.size()) >= small_fraction_ * candidates)) {
        const Slot s = small_.pop_front(links_);
        if (freq_[s] > 0) {
          freq_[s] = 0;
          in_main_[s] = 1;
          main_.push_back(links_, s);
          continue;
        }
        ghost_.push(state_.blocks[s].id);
        while (ghost_.size() > std::max<std::size_t>(main_.size(), 1)) ghost_.pop_oldest();
        return s;
      }
      const Slot s = main_.pop_front(links_);
      if (freq_[s] > 0) {
        --freq_[s];
        main_.push_back(links_, s);
        continue;
      }
      return s;
    }
  }

 private:
  const CacheState& state_;
  double small_fraction_;
  SlotLinks links_;
  SlotList small_, main_;
  std::vector<std::uint8_t> freq_, in_main_;
  GhostList ghost_;
};

}  // namespace

std::unique_ptr<Policy> make_s3fifo(const CacheState& state, const PolicyParams& params) {
  const double fraction = params.at("small_fraction");
  if (!(fraction > 0 && fraction < 1))
    throw InputError("eviction policy", 0, "s3fifo.small_fraction", "expected a value in (0, 1)");
  return std::make_unique<S3Fifo>(state, params.at("small_fraction"));
}

}  // namespace kvsim::kvcache::eviction
