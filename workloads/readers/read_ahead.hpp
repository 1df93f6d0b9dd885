// A Source that reads its inner source on a second thread, a batch of requests ahead of
// the consumer: trace parsing (I/O, JSON, block mapping) then overlaps the consumer's work
// (the cache replay, the trace analysis) instead of adding to it when a second core is free.
//
// Order, values and errors are those of the inner source: requests come out in the inner
// order; an error of the inner source is rethrown by next() after the requests that
// preceded it; category names reach the consumer with the batch that first used them, so
// categories() always covers every request already returned. report() is the inner
// source's once the end was reached (before, the reader thread may still be updating it).
#pragma once

#include <memory>

#include "workloads/request.hpp"

namespace kvsim::workload {

std::unique_ptr<Source> read_ahead(std::unique_ptr<Source> inner);

}  // namespace kvsim::workload
