#include "sim/engine/step_trace.hpp"

#include <cerrno>
#include <cstring>

#include "sim/util/error.hpp"

namespace kvsim::engine {

StepTrace::StepTrace(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "w")) {
  if (!file_) throw InputError(path, 0, "--trace-steps", std::string("cannot write: ") + std::strerror(errno));
  std::fputs(
      "instance,start,end,num_seqs,num_logits,new_tokens,context_tokens,attention_pairs,"
      "linear,elementwise,attention,kv_write,allreduce,lm_head,overhead\n",
      file_);
}

StepTrace::~StepTrace() {
  if (file_) std::fclose(file_);
}

void StepTrace::step(int instance, double start, double end, const compute::BatchShape& shape,
                     const compute::StepBreakdown& b) {
  std::fprintf(file_, "%d,%.17g,%.17g,%u,%u,%llu,%.17g,%.17g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", instance, start,
               end, shape.num_seqs, shape.num_logits, (unsigned long long)shape.new_tokens, shape.context_tokens,
               shape.attention_pairs, b.linear, b.elementwise, b.attention, b.kv_write, b.allreduce, b.lm_head,
               b.overhead);
}

void StepTrace::close() {
  if (!file_) return;
  const bool failed = std::ferror(file_) != 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (failed || !closed) throw InputError(path_, 0, "--trace-steps", "write failed");
}

}  // namespace kvsim::engine
