// Registry of workload generators (see source_factory.hpp).
#include "workloads/source_factory.hpp"

#include <algorithm>
#include <utility>

#include "sim/config/reader.hpp"
#include "workloads/synth/chat.hpp"

namespace kvsim::workload {

namespace {

// One registry entry from a generator's parameter parser and class, whose constructor is
// (Params, Rng, block_size, base_dir).
template <auto Parse, typename Generator>
constexpr GeneratorInfo entry(std::string_view name, std::string_view summary) {
  return {name, summary, [](config::Section& section) { (void)Parse(section); },
          [](config::Section& section, Rng rng, std::uint32_t block_size,
             const std::string& base_dir) -> std::unique_ptr<Source> {
            return std::make_unique<Generator>(Parse(section), std::move(rng), block_size, base_dir);
          }};
}

const GeneratorInfo generators[] = {
    entry<&parse_chat_params, ChatGenerator>(
        "chat", "multi-turn chat sessions with shared system prompts (or empirical length pairs)"),
};

}  // namespace

std::span<const GeneratorInfo> workload_generators() { return generators; }

std::vector<std::string> workload_generator_names() {
  std::vector<std::string> names;
  for (const auto& g : generators) names.emplace_back(g.name);
  return names;
}

std::unique_ptr<Source> make_source(config::Section& workload_section, std::uint64_t seed,
                                    std::uint32_t block_size, const std::string& base_dir) {
  const auto names = workload_generator_names();
  const std::string name =
      workload_section.choice("generator", "chat", names, "Synthetic workload generator; its parameters follow.");
  const auto it = std::find_if(std::begin(generators), std::end(generators),
                               [&](const GeneratorInfo& g) { return g.name == name; });
  return it->build(workload_section, Rng::stream(seed, "workload"), block_size, base_dir);
}

}  // namespace kvsim::workload
