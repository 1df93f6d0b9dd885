// kvsim list: the registered variants of each pluggable family, and the known cards.
#include <iostream>

#include <algorithm>

#include "models/compute/perf_model.hpp"
#include "models/kvcache/eviction/policy.hpp"
#include "models/kvcache/admission/admission.hpp"
#include "models/scheduling/batching/batcher.hpp"
#include "models/scheduling/routing/router.hpp"
#include "sim/cli/command.hpp"
#include "sim/config/embedded.hpp"
#include "sim/util/error.hpp"
#include "workloads/readers/trace.hpp"
#include "workloads/source_factory.hpp"

namespace kvsim::cli {

int list_command(const CommandContext& context) {
  Args args("list", context.args);
  const auto rest = args.positionals();
  const std::string family = rest.empty() ? "" : rest[0];
  bool any = false;
  auto section = [&](const std::string& name) {
    if (!family.empty() && family != name) return false;
    std::cout << name << ":\n";
    any = true;
    return true;
  };
  if (section("routers"))
    for (const auto& r : scheduling::routing::routers()) std::cout << "  " << r.name << "  " << r.help << "\n";
  if (section("batchers"))
    for (const auto& b : scheduling::batching::batchers()) std::cout << "  " << b.name << "  " << b.help << "\n";
  if (section("admission"))
    for (const auto& a : kvcache::admission::admission_rules()) std::cout << "  " << a.name << "  " << a.help << "\n";
  if (section("policies"))
    for (const auto& p : kvcache::eviction::policies()) std::cout << "  " << p.name << "  " << p.help << "\n";
  if (section("formats")) {
    const auto writers = workload::trace_writer_names();
    for (const auto& f : workload::trace_format_names())
      std::cout << "  " << f << (std::find(writers.begin(), writers.end(), f) != writers.end() ? "  (read, write)" : "  (read)")
                << "\n";
  }
  if (section("compute"))
    for (const auto& m : compute::step_time_models()) std::cout << "  " << m.name << "  " << m.help << "\n";
  if (section("generators"))
    for (const auto& g : workload::workload_generators()) std::cout << "  " << g.name << "  " << g.summary << "\n";
  for (const auto& [title, kind] : {std::pair{"gpus", "gpu"}, {"nodes", "node"}, {"models", "llm"}, {"clusters", "cluster"}})
    if (section(title))
      for (const auto& f : config::embedded_files())
        if (f.kind == kind) std::cout << "  " << f.name << "  (" << f.path << ")\n";
  if (!any)
    throw InputError("command line", 0, "list",
                     "unknown family \"" + family +
                         "\"; families: routers, batchers, admission, policies, compute, formats, generators, gpus, nodes, models, clusters");
  return 0;
}

}  // namespace kvsim::cli
