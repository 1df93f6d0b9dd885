// `kvsim calibrate fit` through the real CLI: the calibration card it writes says where every
// knob's value comes from (fitted, fixed by design with its provenance, a --start card, or
// the built-in default).
#include <doctest/doctest.h>

#include <string>

#include "tests/sim/cli_helpers.hpp"

namespace {

using kvsim::test::read_text;
using kvsim::test::run_kvsim;
using kvsim::test::ScratchDir;

// A small training table: Llama-2-7B's fused QKV GEMM on A100 at four token counts (times of
// Vidur's A100 profile, rounded; any positive times would do, only the card's labels matter).
const char* const kGemmTable =
    "gpu,operator,model,hidden,heads,kv_heads,head_dim,intermediate,vocab,tp,tokens,seqs,context,bytes,time_us,split\n"
    "a100-80gb,qkv_proj,Llama-2-7b,4096,32,32,128,11008,32000,1,1,1,0,0,28,train\n"
    "a100-80gb,qkv_proj,Llama-2-7b,4096,32,32,128,11008,32000,1,64,1,0,0,35,train\n"
    "a100-80gb,qkv_proj,Llama-2-7b,4096,32,32,128,11008,32000,1,512,1,0,0,160,train\n"
    "a100-80gb,qkv_proj,Llama-2-7b,4096,32,32,128,11008,32000,1,4096,1,0,0,1170,train\n";

// The comment after `key = value` on the card line of `key`.
std::string label_of(const std::string& card, const std::string& key) {
  const auto at = card.find("\n" + key + " = ");
  REQUIRE_MESSAGE(at != std::string::npos, key);
  const auto end = card.find('\n', at + 1);
  const auto hash = card.find("  # ", at);
  REQUIRE(hash < end);
  return card.substr(hash + 4, end - hash - 4);
}

}  // namespace

TEST_CASE("calibrate fit card: knobs fixed by design carry their provenance, not 'built-in default'") {
  ScratchDir dir;
  const auto table = dir.write("gemm.csv", kGemmTable);
  const auto r = run_kvsim(dir, {"calibrate", "fit", table, "--gpu", "a100-80gb", "-o", dir.file("card.toml")});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto card = read_text(dir.file("card.toml"));
  CHECK(label_of(card, "gemm_floor") == "fitted");
  CHECK(label_of(card, "attention_decode_partition").rfind("fixed: vLLM's paged-attention v2 partition size", 0) == 0);
  CHECK(label_of(card, "overhead_per_token").rfind("fixed: the measured CPU times are decode steps", 0) == 0);
  // A knob the fit could free but no training row constrains keeps the generic label.
  CHECK(label_of(card, "attention_prefill_floor") == "built-in default (no training row constrains it)");
}

TEST_CASE("calibrate fit card: a fixed knob changed by the --start card is labelled as coming from it") {
  ScratchDir dir;
  const auto table = dir.write("gemm.csv", kGemmTable);
  const auto start = dir.write("start.toml", "name = \"start\"\ngpu = \"a100-80gb\"\nattention_decode_partition = 256\n");
  const auto r =
      run_kvsim(dir, {"calibrate", "fit", table, "--gpu", "a100-80gb", "--start", start, "-o", dir.file("card.toml")});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto card = read_text(dir.file("card.toml"));
  CHECK(card.find("\nattention_decode_partition = 256  # from " + start + " (no training row constrains it)\n") !=
        std::string::npos);
  // Kept at its built-in value through the start card: still its own provenance.
  CHECK(label_of(card, "overhead_per_token").rfind("fixed: ", 0) == 0);
}
