// Tests of the api population's optional layer of system prompts shared by all clients
// (workloads/synth/mix/api.cpp): each client uses one system prompt (or none) for all its
// requests, chosen by Zipf popularity, and a spec whose clients use none generates exactly
// the stream of a spec without the layer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/config/reader.hpp"
#include "workloads/synth/mix/mix.hpp"

using kvsim::Rng;
using kvsim::workload::MixGenerator;
using kvsim::workload::Request;

namespace {

std::vector<Request> generate(const std::string& toml_text) {
  toml::table doc = kvsim::config::parse_toml(toml_text, "<test>");
  auto context = std::make_shared<kvsim::config::ReadContext>();
  kvsim::config::Section root(&doc, "", context);
  auto params = kvsim::workload::parse_mix_params(root);
  root.finish();
  MixGenerator gen(std::move(params), Rng::stream(5, "workload"), 16);
  std::vector<Request> out;
  while (auto r = gen.next()) out.push_back(std::move(*r));
  return out;
}

// 400 equal clients with one 160-token template each and 40-token suffixes; the layer's
// keys are appended.
std::string spec(const std::string& layer) {
  return R"(
num_requests = 20000
[[population]]
kind = "api"
rate = 400
clients = 400
client_zipf = 0
process = "poisson"
templates = 1
template = { model = "constant", median = 160 }
)" + layer + R"(
[population.types.api]
message = { model = "constant", median = 40 }
)";
}

}  // namespace

TEST_CASE("mix api system prompts are shared across clients and fixed per client") {
  const auto requests = generate(spec(R"(
system_prompts = 2
system_prompt = { model = "constant", median = 32 }
system_prompt_zipf = 1
system_share = 0.5
)"));
  REQUIRE(requests.size() == 20000);
  // With a system prompt: 32 + 160 + 40 = 232 tokens, 15 blocks, the template in blocks
  // 2..11; without: 200 tokens, 13 blocks, the template in blocks 0..9. A client's last
  // template block identifies it either way (chained identities, one template per client).
  struct Client {
    bool system;
    kvsim::workload::BlockId first;  // block 0: the system prompt's, or the template's
  };
  std::map<kvsim::workload::BlockId, Client> clients;
  for (const Request& r : requests) {
    const bool system = r.input_tokens == 232;
    REQUIRE((system || r.input_tokens == 200));
    REQUIRE(r.blocks.size() == (system ? 15u : 13u));
    const auto key = r.blocks[system ? 11 : 9];
    const auto it = clients.try_emplace(key, Client{system, r.blocks[0]}).first;
    // Every request of a client carries the same system prompt (or none).
    CHECK(it->second.system == system);
    CHECK(it->second.first == r.blocks[0]);
  }
  // ~50 requests per client: all 400 clients appear.
  CHECK(clients.size() == 400);
  std::map<kvsim::workload::BlockId, int> users;  // system prompt -> clients using it
  int with_system = 0;
  for (const auto& [key, c] : clients) {
    if (!c.system) continue;
    ++with_system;
    ++users[c.first];
  }
  // Half the clients use one (binomial(400, 0.5): sd 10, within 4 sd).
  CHECK(std::abs(with_system - 200) <= 40);
  // Two prompts shared across clients; Zipf(1) over 2 gives the first 2/3 of the users
  // (binomial sd sqrt(200 * 2/9) ~ 6.7, within 4 sd).
  REQUIRE(users.size() == 2);
  int top = 0;
  for (const auto& [first, n] : users) top = std::max(top, n);
  CHECK(std::abs(top - with_system * 2.0 / 3.0) <= 27);
}

TEST_CASE("mix api without system prompt users generates the stream of a spec without the layer") {
  const auto plain = generate(spec(""));
  const auto layered = generate(spec("system_prompts = 3\nsystem_share = 0\n"));
  REQUIRE(plain.size() == layered.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    CHECK(plain[i].arrival == layered[i].arrival);
    CHECK(plain[i].input_tokens == layered[i].input_tokens);
    CHECK(plain[i].output_tokens == layered[i].output_tokens);
    CHECK(plain[i].blocks == layered[i].blocks);
  }
}
