// A step-time model with round numbers for the serving-engine unit tests, so their expected
// times can be derived by hand: 1 s per step, plus 1 s per 1,024 new tokens, plus 1 s per
// 65,536 tokens of context attended.
#pragma once

#include "models/compute/perf_model.hpp"

namespace kvsim::test {

class FakePerf final : public compute::PerfModel {
 public:
  compute::StepBreakdown breakdown(const compute::BatchShape& batch) const override {
    compute::StepBreakdown s;
    s.overhead = 1.0;
    s.linear = double(batch.new_tokens) / 1024.0;
    s.attention = batch.context_tokens / 65536.0;
    return s;
  }
};

// The fake's step time, written out for the hand-derived expectations.
inline double fake_step(double new_tokens, double context_tokens) {
  return 1.0 + new_tokens / 1024.0 + context_tokens / 65536.0;
}

}  // namespace kvsim::test
