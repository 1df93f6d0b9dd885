// Typed config reading (sim/config/reader.hpp): defaults land in the resolved config in SI
// units, every bad value is an InputError naming file, line and dotted key, unknown keys are
// rejected with a suggestion (each layer of a card + overrides section at its own file),
// and command-line overrides parse TOML values and fall back to strings.
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/config/reader.hpp"
#include "sim/util/error.hpp"

using kvsim::InputError;
using kvsim::config::apply_override;
using kvsim::config::closest_match;
using kvsim::config::Dimension;
using kvsim::config::parse_toml;
using kvsim::config::Range;
using kvsim::config::ReadContext;
using kvsim::config::Section;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs f, which must throw an InputError, and returns it (a default one, after a failed
// check, if it did not throw).
template <class F>
InputError input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  FAIL_CHECK("expected an InputError");
  return InputError("", 0, "", "(none)");
}

// A parsed document plus a root section over it.
struct Doc {
  toml::table table;
  std::shared_ptr<ReadContext> context = std::make_shared<ReadContext>();
  Doc(const std::string& text, const std::string& source) : table(parse_toml(text, source)) {
    context->default_source = source;
  }
  Section root() { return Section(&table, "", context); }
};

}  // namespace

TEST_CASE("reader: defaults and given values are recorded in SI into the resolved config") {
  Doc doc("[instances]\nhbm = \"80GiB\"\n", "cfg.toml");
  Section root = doc.root();
  Section inst = root.table("instances");
  CHECK(inst.path() == "instances");
  CHECK(inst.integer("count", 8, "serving instances", 1) == 8);
  CHECK(inst.quantity("hbm", Dimension::bytes, 8e10, "HBM") == 85899345920.0);
  CHECK(inst.quantity("latency", Dimension::time, 2e-6, "latency") == 2e-6);
  CHECK(inst.flag("caching", true, "prefix caching") == true);
  CHECK(inst.text("name", "x", "name") == "x");
  CHECK(inst.number("util", 0.9, "utilization", Range::fraction()) == 0.9);
  CHECK_NOTHROW(inst.finish());

  const toml::table& resolved = doc.context->resolved;
  CHECK(resolved["instances"]["count"].value_exact<std::int64_t>() == 8);
  CHECK(resolved["instances"]["hbm"].value_exact<double>() == 85899345920.0);
  CHECK(resolved["instances"]["latency"].value_exact<double>() == 2e-6);
  CHECK(resolved["instances"]["caching"].value_exact<bool>() == true);
  CHECK(resolved["instances"]["name"].value_exact<std::string>() == "x");
  CHECK(resolved["instances"]["util"].value_exact<double>() == 0.9);

  // Documentation is recorded in reading order with type, rendered default and unit.
  const auto& docs = doc.context->docs;
  REQUIRE(docs.size() == 6);
  CHECK(docs[0].key == "instances.count");
  CHECK(docs[0].type == "integer");
  CHECK(docs[0].default_value == "8");
  CHECK(docs[1].key == "instances.hbm");
  CHECK(docs[1].type == "size in bytes");
  CHECK(docs[1].default_value == "80 GB");
  CHECK(docs[1].unit == "B");
  CHECK(docs[1].help == "HBM");
  CHECK(docs[2].default_value == "2 us");
  CHECK(docs[3].default_value == "true");
  CHECK(docs[4].default_value == "\"x\"");
}

TEST_CASE("reader: integers accept counts written with a suffix") {
  Doc doc("n = \"10k\"\nm = 3.0\n", "cfg.toml");
  Section root = doc.root();
  CHECK(root.integer("n", 0, "n") == 10000);
  CHECK(root.integer("m", 0, "m") == 3);
  CHECK(doc.context->resolved["n"].value_exact<std::int64_t>() == 10000);
}

TEST_CASE("reader: a wrong type names file line and dotted key") {
  Doc doc("[run]\nname = \"t\"\n\n[instances]\ncount = \"two\"\ncaching = 1\nhbm = true\nname = 3\n"
          "rate = \"fast\"\nlat = \"80GiB\"\n",
          "cfg.toml");
  Section root = doc.root();
  Section inst = root.table("instances");

  const InputError count = input_error([&] { inst.integer("count", 8, "count"); });
  CHECK(count.file() == "cfg.toml");
  CHECK(count.line() == 5);
  CHECK(count.field() == "instances.count");
  CHECK(contains(count.what(), "cfg.toml:5: instances.count: "));
  CHECK(contains(count.what(), "expected an integer"));
  CHECK(contains(count.what(), "\"two\""));

  const InputError flag = input_error([&] { inst.flag("caching", true, "caching"); });
  CHECK(flag.line() == 6);
  CHECK(contains(flag.what(), "cfg.toml:6: instances.caching: expected true or false, got an integer"));

  const InputError hbm = input_error([&] { inst.quantity("hbm", Dimension::bytes, 0, "hbm"); });
  CHECK(hbm.line() == 7);
  CHECK(contains(hbm.what(), "instances.hbm"));
  CHECK(contains(hbm.what(), "a size in bytes"));
  CHECK(contains(hbm.what(), "got a boolean"));

  const InputError name = input_error([&] { inst.text("name", "", "name"); });
  CHECK(name.line() == 8);
  CHECK(contains(name.what(), "expected a string, got an integer"));

  const InputError rate = input_error([&] { inst.number("rate", 1, "rate"); });
  CHECK(rate.line() == 9);
  CHECK(contains(rate.what(), "expected a number, got a string"));

  // A unit of the wrong dimension is reported with the unit parser's explanation.
  const InputError lat = input_error([&] { inst.quantity("lat", Dimension::time, 0, "lat"); });
  CHECK(lat.line() == 10);
  CHECK(lat.field() == "instances.lat");
  CHECK(contains(lat.what(), "a duration"));
  CHECK(contains(lat.what(), "GiB"));

  // A scalar where a table belongs.
  const InputError table = input_error([&] { root.table("run").table("name"); });
  CHECK(table.line() == 2);
  CHECK(contains(table.what(), "run.name: expected a table, got a string"));
}

TEST_CASE("reader: out of range values name the bounds and the value") {
  Doc doc("util = 1.5\nrate = -1\nbs = 0\nzero = 0\nlat = \"-2ms\"\n", "r.toml");
  Section root = doc.root();
  const InputError util = input_error([&] { root.number("util", 0.9, "u", {0, 1, true}); });
  CHECK(util.line() == 1);
  CHECK(contains(util.what(), "r.toml:1: util: expected a number between 0 and 1, got 1.5"));
  const InputError rate = input_error([&] { root.number("rate", 1, "r", Range::positive()); });
  CHECK(contains(rate.what(), "r.toml:2: rate: expected a number > 0, got -1"));
  const InputError bs = input_error([&] { root.integer("bs", 16, "b", 1, 1 << 20); });
  CHECK(contains(bs.what(), "r.toml:3: bs: expected an integer between 1 and 1048576, got 0"));
  const InputError zero = input_error([&] { root.quantity("zero", Dimension::bytes, 1, "z", Range::positive()); });
  CHECK(contains(zero.what(), "r.toml:4: zero: "));
  CHECK(contains(zero.what(), "> 0"));
  const InputError lat = input_error([&] { root.quantity("lat", Dimension::time, 0, "l"); });
  CHECK(contains(lat.what(), "r.toml:5: lat: "));
  CHECK(contains(lat.what(), ">= 0"));
  CHECK(contains(lat.what(), "-0.002"));
}

TEST_CASE("reader: choice lists the valid values and suggests the closest") {
  Doc doc("policy = \"least_lodaed\"\nother = \"zzz\"\n", "c.toml");
  Section root = doc.root();
  const std::vector<std::string> routers{"round_robin", "least_loaded"};
  const InputError near = input_error([&] { root.choice("policy", "round_robin", routers, "router"); });
  CHECK(near.line() == 1);
  CHECK(contains(near.what(), "c.toml:1: policy: unknown value \"least_lodaed\""));
  CHECK(contains(near.what(), "round_robin, least_loaded"));
  CHECK(contains(near.what(), "did you mean \"least_loaded\"?"));
  const InputError far = input_error([&] { root.choice("other", "round_robin", routers, "router"); });
  CHECK(contains(far.what(), "round_robin, least_loaded"));
  CHECK_FALSE(contains(far.what(), "did you mean"));
}

TEST_CASE("reader: require reports a missing key at the section") {
  Doc doc("[gpu]\nflops = 1\n", "g.toml");
  Section root = doc.root();
  Section gpu = root.table("gpu");
  CHECK_NOTHROW(gpu.require("flops"));
  const InputError missing = input_error([&] { gpu.require("hbm"); });
  CHECK(missing.file() == "g.toml");
  CHECK(missing.field() == "gpu.hbm");
  CHECK(contains(missing.what(), "missing required key"));
}

TEST_CASE("reader: an unknown key names file line dotted key and the closest valid key") {
  Doc doc("[run]\nseed = 3\n\n[instances]\ncount = 2\nblok_size = 16\n", "my.toml");
  Section root = doc.root();
  Section run = root.table("run");
  CHECK(run.integer("seed", 1, "seed") == 3);
  CHECK_NOTHROW(run.finish());
  Section inst = root.table("instances");
  inst.integer("count", 8, "count");
  inst.integer("block_size", 16, "block size");
  const InputError e = input_error([&] { inst.finish(); });
  CHECK(e.file() == "my.toml");
  CHECK(e.line() == 6);
  CHECK(e.field() == "instances.blok_size");
  CHECK(contains(e.what(), "my.toml:6: instances.blok_size: unknown key; did you mean \"instances.block_size\"?"));
  CHECK_NOTHROW(root.finish());  // run and instances were both asked for
}

TEST_CASE("reader: an unknown key with nothing close lists the valid keys") {
  Doc doc("count = 2\nzzzzzzzzzz = 1\n", "my.toml");
  Section root = doc.root();
  root.integer("count", 8, "count");
  root.flag("verbose", false, "v");
  const InputError e = input_error([&] { root.finish(); });
  CHECK(e.line() == 2);
  CHECK(contains(e.what(), "my.toml:2: zzzzzzzzzz: unknown key; valid keys here: count, verbose"));
}

TEST_CASE("reader: an unknown top-level table is rejected") {
  Doc doc("[run]\nseed = 1\n[instnces]\ncount = 1\n", "t.toml");
  Section root = doc.root();
  Section run = root.table("run");
  run.integer("seed", 1, "seed");
  root.table("instances");
  const InputError e = input_error([&] { root.finish(); });
  CHECK(e.line() == 3);
  CHECK(contains(e.what(), "t.toml:3: instnces: unknown key; did you mean \"instances\"?"));
}

TEST_CASE("reader: layered sections take overrides first and report unknown keys at their own file") {
  const toml::table card = parse_toml("name = \"h100\"\nflops = 1e15\nhbm = \"80GB\"\n", "cards/h100.toml");
  SUBCASE("values: override first then card then default") {
    Doc doc("[platform]\n[platform.gpu_spec]\nhbm = \"141GB\"\n", "cfg.toml");
    Section root = doc.root();
    Section platform = root.table("platform");
    Section gpu = platform.layered("gpu_spec", &card);
    CHECK(gpu.path() == "platform.gpu_spec");
    CHECK(gpu.has("flops"));
    CHECK(gpu.has("hbm"));
    CHECK_FALSE(gpu.has("tdp"));
    CHECK(gpu.quantity("hbm", Dimension::bytes, 0, "hbm") == 141e9);
    CHECK(gpu.quantity("flops", Dimension::flop_rate, 0, "flops") == 1e15);
    CHECK(gpu.quantity("tdp", Dimension::power, 700, "tdp") == 700);
    CHECK(gpu.text("name", "", "name") == "h100");
    CHECK_NOTHROW(gpu.finish());
    CHECK(doc.context->resolved["platform"]["gpu_spec"]["hbm"].value_exact<double>() == 141e9);
    CHECK(doc.context->resolved["platform"]["gpu_spec"]["flops"].value_exact<double>() == 1e15);
  }
  SUBCASE("unknown key in the overrides is reported at the config file") {
    Doc doc("[platform]\n\n[platform.gpu_spec]\nhbm = \"141GB\"\nhbm_bandwith = 1\n", "cfg.toml");
    Section root = doc.root();
    Section platform = root.table("platform");
    Section gpu = platform.layered("gpu_spec", &card);
    gpu.text("name", "", "name");
    gpu.quantity("flops", Dimension::flop_rate, 0, "flops");
    gpu.quantity("hbm", Dimension::bytes, 0, "hbm");
    gpu.quantity("hbm_bandwidth", Dimension::bandwidth, 0, "hbm bandwidth");
    const InputError e = input_error([&] { gpu.finish(); });
    CHECK(e.file() == "cfg.toml");
    CHECK(e.line() == 5);
    CHECK(e.field() == "platform.gpu_spec.hbm_bandwith");
    CHECK(contains(e.what(), "did you mean \"platform.gpu_spec.hbm_bandwidth\"?"));
  }
  SUBCASE("unknown key in the card is reported at the card file") {
    const toml::table bad_card = parse_toml("name = \"x\"\nflops = 1e15\n\nflps = 2\n", "cards/x.toml");
    Doc doc("[platform]\n", "cfg.toml");
    Section root = doc.root();
    Section platform = root.table("platform");
    Section gpu = platform.layered("gpu_spec", &bad_card);
    gpu.text("name", "", "name");
    gpu.quantity("flops", Dimension::flop_rate, 0, "flops");
    const InputError e = input_error([&] { gpu.finish(); });
    CHECK(e.file() == "cards/x.toml");
    CHECK(e.line() == 4);
    CHECK(e.field() == "platform.gpu_spec.flps");
    CHECK(contains(e.what(), "cards/x.toml:4: platform.gpu_spec.flps: unknown key; did you mean"));
  }
  SUBCASE("a bad value in the card is reported at the card file") {
    const toml::table bad_card = parse_toml("name = \"x\"\nflops = \"fast\"\n", "cards/y.toml");
    Doc doc("", "cfg.toml");
    Section root = doc.root();
    Section gpu = root.layered("gpu_spec", &bad_card);
    const InputError e = input_error([&] { gpu.quantity("flops", Dimension::flop_rate, 0, "flops"); });
    CHECK(e.file() == "cards/y.toml");
    CHECK(e.line() == 2);
    CHECK(e.field() == "gpu_spec.flops");
  }
}

TEST_CASE("reader: a TOML syntax error names the source and line") {
  const InputError e = input_error([] { (void)parse_toml("[run]\nname = \"t\"\n[instances\ncount = 2\n", "bad.toml"); });
  CHECK(e.file() == "bad.toml");
  CHECK(e.line() == 3);
  CHECK(contains(e.what(), "bad.toml:3: TOML syntax error"));
}

TEST_CASE("reader: apply_override parses TOML values and creates tables") {
  toml::table doc = parse_toml("[workload]\nrate = 20\n", "cfg.toml");
  apply_override(doc, "workload.rate=12");
  apply_override(doc, "instances.hbm_utilization=0.5");
  apply_override(doc, "instances.prefix_caching=true");
  apply_override(doc, "a.b.c.list=[1,2]");
  apply_override(doc, "platform.gpu_spec.hbm=80GiB");
  apply_override(doc, "run.name=\"quoted\"");
  apply_override(doc, "run.note=x=y");  // only the first '=' splits key and value
  apply_override(doc, "run.path=C:\\dir \"x\"\tend");  // quotes, backslash, tab kept verbatim

  CHECK(doc["workload"]["rate"].value_exact<std::int64_t>() == 12);
  CHECK(doc["instances"]["hbm_utilization"].value_exact<double>() == 0.5);
  CHECK(doc["instances"]["prefix_caching"].value_exact<bool>() == true);
  const toml::array* list = doc["a"]["b"]["c"]["list"].as_array();
  REQUIRE(list != nullptr);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].value_exact<std::int64_t>() == 1);
  CHECK((*list)[1].value_exact<std::int64_t>() == 2);
  CHECK(doc["platform"]["gpu_spec"]["hbm"].value_exact<std::string>() == "80GiB");
  CHECK(doc["run"]["name"].value_exact<std::string>() == "quoted");
  CHECK(doc["run"]["note"].value_exact<std::string>() == "x=y");
  CHECK(doc["run"]["path"].value_exact<std::string>() == "C:\\dir \"x\"\tend");

  // The overridden value is then read like any other, in SI.
  auto context = std::make_shared<ReadContext>();
  Section root(&doc, "", context);
  CHECK(root.table("platform").table("gpu_spec").quantity("hbm", Dimension::bytes, 0, "hbm") == 85899345920.0);
}

TEST_CASE("reader: values from apply_override are located at --set without a line") {
  toml::table doc = parse_toml("[instances]\n", "cfg.toml");
  apply_override(doc, "instances.block_size=0");
  auto context = std::make_shared<ReadContext>();
  context->default_source = "cfg.toml";
  Section root(&doc, "", context);
  Section inst = root.table("instances");
  const InputError e = input_error([&] { inst.integer("block_size", 16, "block size", 1); });
  CHECK(e.file() == "--set");
  CHECK(e.line() == 0);
  CHECK(e.field() == "instances.block_size");
  CHECK(contains(e.what(), "--set: instances.block_size: expected an integer >= 1, got 0"));
}

TEST_CASE("reader: string values from apply_override are located at --set too") {
  // "least_lodaed" is not a TOML value, so it is taken as a string; an error about it must
  // still point at the command line, not at the config file.
  toml::table doc = parse_toml("[routing]\n", "cfg.toml");
  apply_override(doc, "routing.policy=least_lodaed");
  auto context = std::make_shared<ReadContext>();
  context->default_source = "cfg.toml";
  Section root(&doc, "", context);
  Section routing = root.table("routing");
  const std::vector<std::string> routers{"round_robin", "least_loaded"};
  const InputError e = input_error([&] { routing.choice("policy", "round_robin", routers, "router"); });
  CHECK(e.file() == "--set");
  CHECK(e.line() == 0);
  CHECK(contains(e.what(), "--set: routing.policy: unknown value \"least_lodaed\""));
}

TEST_CASE("reader: apply_override rejects malformed assignments") {
  toml::table doc = parse_toml("[workload]\nrate = 20\n", "cfg.toml");
  const InputError no_value = input_error([&] { apply_override(doc, "novalue"); });
  CHECK(no_value.file() == "--set");
  CHECK(contains(no_value.what(), "expected KEY=VALUE"));
  const InputError no_key = input_error([&] { apply_override(doc, "=3"); });
  CHECK(contains(no_key.what(), "expected KEY=VALUE"));
  const InputError empty_part = input_error([&] { apply_override(doc, "workload..rate=3"); });
  CHECK(contains(empty_part.what(), "empty component"));
  // workload.rate is a number: nothing can be set below it.
  const InputError not_table = input_error([&] { apply_override(doc, "workload.rate.x=1"); });
  CHECK(not_table.field() == "workload.rate.x");
  CHECK(contains(not_table.what(), "\"rate\" is not a table"));
  CHECK(doc["workload"]["rate"].value_exact<std::int64_t>() == 20);  // untouched
}

TEST_CASE("reader: apply_override reaches into arrays of tables by index or by name") {
  toml::table doc = parse_toml("[[instances]]\nname = \"prefill\"\ncount = 8\n"
                               "[[instances]]\nname = \"decode\"\ncount = 16\n"
                               "[[instances]]\ncount = 2\n",
                               "cfg.toml");
  apply_override(doc, "instances.decode.count=24");
  apply_override(doc, "instances.0.max_num_seqs=64");
  apply_override(doc, "instances.2.multi_step=false");
  const toml::array& groups = *doc["instances"].as_array();
  CHECK(groups[0].as_table()->at("count").value_exact<std::int64_t>() == 8);
  CHECK(groups[0].as_table()->at("max_num_seqs").value_exact<std::int64_t>() == 64);
  CHECK(groups[1].as_table()->at("count").value_exact<std::int64_t>() == 24);
  CHECK(groups[2].as_table()->at("multi_step").value_exact<bool>() == false);
  CHECK(groups[2].as_table()->at("count").value_exact<std::int64_t>() == 2);

  // A group that is not there is named with the ones that are (by name, or index without).
  const InputError missing = input_error([&] { apply_override(doc, "instances.mixed.count=4"); });
  CHECK(missing.file() == "--set");
  CHECK(missing.field() == "instances.mixed.count");
  CHECK(contains(missing.what(), "no [[instances]] table \"mixed\" (by 0-based index or name: prefill, decode, 2)"));
  CHECK(contains(input_error([&] { apply_override(doc, "instances.3.count=4"); }).what(), "no [[instances]] table \"3\""));
  // A whole group cannot be replaced by a value.
  CHECK(contains(input_error([&] { apply_override(doc, "instances.decode=4"); }).what(),
                 "\"instances.decode\" is a whole [[instances]] table"));
}

TEST_CASE("reader: closest_match picks the nearest candidate within a small distance") {
  const std::vector<std::string> keys{"block_size", "count", "tp", "max_num_seqs", "max_num_batched_tokens"};
  CHECK(closest_match("blok_size", keys) == "block_size");
  CHECK(closest_match("cuont", keys) == "count");
  CHECK(closest_match("tp", keys) == "tp");
  CHECK(closest_match("max_num_seq", keys) == "max_num_seqs");
  CHECK(closest_match("max_num_batch_tokens", keys) == "max_num_batched_tokens");
  CHECK(closest_match("hbm_utilization", keys).empty());
  CHECK(closest_match("zzzzz", keys).empty());
  CHECK(closest_match("count", {}).empty());
}

// Issue 10, item 4: counts beyond int64 were converted from double with undefined behaviour
// (the message then showed -9223372036854775808).
TEST_CASE("reader: integers far out of range are refused naming the key and the given value") {
  Doc doc("a = \"1e30\"\nb = 1e30\nc = -1e30\nd = \"18446744073709551615\"\ne = 9.3e18\nf = \"2.5\"\n", "big.toml");
  Section root = doc.root();
  const InputError a = input_error([&] { root.integer("a", 0, "a", 0, 4294967295); });
  CHECK(a.line() == 1);
  CHECK(a.field() == "a");
  CHECK(contains(a.what(), "big.toml:1: a: expected an integer between 0 and 4294967295, got 1e+30"));
  const InputError b = input_error([&] { root.integer("b", 0, "b"); });
  CHECK(contains(b.what(), "big.toml:2: b: expected an integer >= -9223372036854775808, got 1e+30"));
  const InputError c = input_error([&] { root.integer("c", 0, "c", 0); });
  CHECK(contains(c.what(), "big.toml:3: c: expected an integer >= 0, got -1e+30"));
  const InputError d = input_error([&] { root.integer("d", 0, "d", 0); });
  CHECK(contains(d.what(), "big.toml:4: d: expected an integer >= 0, got 1.84467440737096e+19"));
  CHECK_FALSE(contains(d.what(), "-9223372036854775808"));
  // Just above 2^63: not representable, refused rather than wrapped.
  const InputError e = input_error([&] { root.integer("e", 0, "e", 0); });
  CHECK(contains(e.what(), "big.toml:5: e: expected an integer >= 0, got 9.3e+18"));
  const InputError f = input_error([&] { root.integer("f", 0, "f", 0, 10); });
  CHECK(contains(f.what(), "big.toml:6: f: expected a whole number between 0 and 10, got 2.5"));
}

TEST_CASE("reader: unsigned integers cover the whole uint64 range exactly") {
  Doc doc("max = \"18446744073709551615\"\nsmall = 42\nk = \"10k\"\nover = \"18446744073709551616\"\n"
          "neg = -1\nhuge = 1e20\nword = \"many\"\n",
          "seed.toml");
  Section root = doc.root();
  CHECK(root.unsigned_integer("max", 1, "m") == 18446744073709551615ULL);
  CHECK(root.unsigned_integer("small", 1, "s") == 42);
  CHECK(root.unsigned_integer("k", 1, "k") == 10000);
  CHECK(root.unsigned_integer("absent", 7, "a") == 7);
  // Above 2^63-1 the resolved config keeps the exact decimal string, readable again.
  CHECK(doc.context->resolved["max"].value_exact<std::string>() == "18446744073709551615");
  CHECK(doc.context->resolved["small"].value_exact<std::int64_t>() == 42);
  for (const char* key : {"over", "neg", "huge", "word"}) {
    CAPTURE(key);
    const InputError error = input_error([&] { root.unsigned_integer(key, 1, "x"); });
    CHECK(error.file() == "seed.toml");
    CHECK(error.field() == key);
    CHECK(contains(error.what(), "expected an integer"));
    CHECK(contains(error.what(), "2^64-1"));
  }
}

// Issue 9, section 3: a name that starts or contains what was typed is the likelier meaning.
TEST_CASE("reader: closest_match prefers prefix and substring matches over edit distance") {
  const std::vector<std::string> gpus{"h100-sxm", "h200", "a100-80gb"};
  CHECK(closest_match("h100", gpus) == "h100-sxm");  // h200 is one edit away
  CHECK(closest_match("H100", gpus) == "h100-sxm");
  CHECK(closest_match("a100", gpus) == "a100-80gb");
  CHECK(closest_match("h200", gpus) == "h200");
  CHECK(closest_match("80gb", gpus) == "a100-80gb");
  const std::vector<std::string> models{"llama-3.1-8b", "llama-3.1-70b", "llama-2-70b"};
  CHECK(closest_match("llama-3.1-8b-instruct", models) == "llama-3.1-8b");
  CHECK(closest_match("llama-3.1", models) == "llama-3.1-8b");  // the shorter of two prefixes
}

TEST_CASE("reader: a bare size or bandwidth far below any real one asks for the unit") {
  Doc doc("[kvcache.dram]\ncapacity = 256\nzero = 0\nbytes = \"256B\"\nbw = 100\nflops = 989\nbig = 1048576\n", "u.toml");
  Section root = doc.root();
  Section dram = root.table("kvcache").table("dram");
  const InputError capacity = input_error([&] { dram.quantity("capacity", Dimension::bytes, 0, "c"); });
  CHECK(capacity.line() == 2);
  CHECK(contains(capacity.what(), "u.toml:2: kvcache.dram.capacity: a number without a unit is in B"));
  CHECK(contains(capacity.what(), "write the unit, e.g. \"256GiB\""));
  const InputError bw = input_error([&] { dram.quantity("bw", Dimension::bandwidth, 0, "b"); });
  CHECK(contains(bw.what(), "u.toml:5: kvcache.dram.bw:"));
  CHECK(contains(bw.what(), "\"100GB/s\""));
  const InputError flops = input_error([&] { dram.quantity("flops", Dimension::flop_rate, 0, "f"); });
  CHECK(contains(flops.what(), "\"989TFLOPS\""));
  // Zero (an absent tier), an explicit unit, and a plausible bare number are accepted.
  CHECK(dram.quantity("zero", Dimension::bytes, 1, "z") == 0);
  CHECK(dram.quantity("bytes", Dimension::bytes, 0, "b") == 256);
  CHECK(dram.quantity("big", Dimension::bytes, 0, "b") == 1048576);
}

TEST_CASE("reader: the resolved config text has shortest numbers and binary sizes, and reads back") {
  Doc doc("[gpu]\nhbm = \"80GiB\"\nhbm_bandwidth = \"3.35TB/s\"\nutil = 0.9\nlat = \"5us\"\nodd = 1000\n", "r.toml");
  Section root = doc.root();
  Section gpu = root.table("gpu");
  gpu.quantity("hbm", Dimension::bytes, 0, "h");
  gpu.quantity("hbm_bandwidth", Dimension::bandwidth, 0, "b");
  gpu.number("util", 0.5, "u");
  gpu.quantity("lat", Dimension::time, 0, "l");
  gpu.integer("odd", 0, "o");
  gpu.quantity("dram", Dimension::bytes, 80e9, "d");
  const std::string text = kvsim::config::to_toml_text(*doc.context);
  CHECK(text ==
        "[gpu]\n"
        "dram = 8e+10\n"
        "hbm = \"80GiB\"\n"
        "hbm_bandwidth = 3.35e+12\n"
        "lat = 5e-06\n"
        "odd = 1000\n"
        "util = 0.9\n");
  // Read back as a config, every value is the same.
  Doc again(text, "again.toml");
  Section gpu2 = again.root().table("gpu");
  CHECK(gpu2.quantity("hbm", Dimension::bytes, 0, "h") == 85899345920.0);
  CHECK(gpu2.quantity("hbm_bandwidth", Dimension::bandwidth, 0, "b") == 3.35e12);
  CHECK(gpu2.quantity("lat", Dimension::time, 0, "l") == 5e-6);
  CHECK(gpu2.number("util", 0, "u") == 0.9);
  // Strings and keys that need quoting are escaped.
  toml::table odd;
  odd.insert("a b", "x\"y\\\x01");
  CHECK(kvsim::config::to_toml_text(odd) == "\"a b\" = \"x\\\"y\\\\\\u0001\"\n");
}

TEST_CASE("reader: documented defaults show whole binary sizes in binary units") {
  Doc doc("", "d.toml");
  Section root = doc.root();
  root.quantity("reserve", Dimension::bytes, 1073741824.0, "r");
  root.quantity("decimal", Dimension::bytes, 80e9, "d");
  REQUIRE(doc.context->docs.size() == 2);
  CHECK(doc.context->docs[0].default_value == "1GiB");  // was "1.074 GB"
  CHECK(doc.context->docs[1].default_value == "80 GB");
}
