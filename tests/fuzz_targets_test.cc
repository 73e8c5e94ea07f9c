// The fuzz layer (fuzz/): the op encoding round-trips and turns any bytes into
// a valid program; fuzz_ops' runner passes on the clean tree and finds a
// catalogued mutant from its counterexample seed, and its finding is a trace
// that `replay --model both --mutant` reproduces at the same line; fuzz_trace's
// check passes on the scenarios and on malformed inputs (a trace error with a
// line), and fails when a promise breaks (a disagreement).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/op_encoding.h"
#include "fuzz/op_runner.h"
#include "fuzz/trace_check.h"
#include "trace/replay.h"
#include "trace/trace_reader.h"
#include <set>

namespace mv::fuzz {
namespace {

const std::filesystem::path kSource = MV_SOURCE_DIR;

std::vector<std::uint8_t> slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> random_bytes(std::mt19937& random, std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(random());
  return bytes;
}

std::string check_text(const std::string& text) {
  return check_trace_input(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

TEST(OpEncoding, DecodeOfEncodeIsTheSameProgram) {
  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    auto bytes = random_bytes(random, 1 + kOpBytes * (random() % 40));
    const auto program = decode_ops(bytes.data(), bytes.size());
    const auto again_bytes = encode_ops(program);
    const auto again = decode_ops(again_bytes.data(), again_bytes.size());
    ASSERT_EQ(again.config.ncpus, program.config.ncpus);
    ASSERT_EQ(again.config.page_size_bytes, program.config.page_size_bytes);
    ASSERT_EQ(again.recipes.size(), program.recipes.size());
    for (std::size_t k = 0; k < program.recipes.size(); ++k)
      ASSERT_EQ(properties::describe_recipe(again.recipes[k]),
                properties::describe_recipe(program.recipes[k]))
          << "input " << i << " op " << k;
  }
}

TEST(OpEncoding, NoKernelStackIsDecodedAsNofail) {
  // memcg_charge_kernel_stack charges with GFP_KERNEL only, and the trace
  // reader refuses nofail on a stack: a decoded one would be a finding whose
  // trace does not read back (fuzz_ops found it so on root_skipped_on_uncharge).
  std::mt19937 random(11);
  std::size_t stacks = 0;
  for (int i = 0; i < 300; ++i) {
    auto bytes = random_bytes(random, 1 + kOpBytes * 60);
    for (const auto& r : decode_ops(bytes.data(), bytes.size()).recipes) {
      if (r.kind != properties::OpKind::alloc || r.alloc_kind != spec::AllocKind::stack) continue;
      ++stacks;
      ASSERT_FALSE(r.nofail) << "input " << i;
    }
  }
  EXPECT_GT(stacks, 100u);  // the property was tested on many stacks
}

TEST(OpEncoding, EveryOpKindAndConfigurationIsReachable) {
  std::set<properties::OpKind> kinds;
  std::set<std::pair<std::uint32_t, std::uint64_t>> configs;
  for (unsigned b = 0; b < 256; ++b) {
    std::uint8_t bytes[1 + kOpBytes] = {static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(b)};
    auto program = decode_ops(bytes, sizeof bytes);
    kinds.insert(program.recipes.at(0).kind);
    configs.insert({program.config.ncpus, program.config.page_size_bytes});
  }
  EXPECT_EQ(kinds.size(), properties::kNrOpKinds);
  EXPECT_EQ(configs.size(), 12u);  // 1-4 CPUs x 4K, 16K, 64K
}

TEST(OpEncoding, EveryDecodedProgramIsATraceTheReaderAccepts) {
  // Every op of random programs, run on a mutant that makes most runs fail
  // late, written as the finding's trace: the reader takes every line.
  std::mt19937 random(13);
  std::size_t findings = 0;
  for (int i = 0; i < 150; ++i) {
    auto bytes = random_bytes(random, 1 + kOpBytes * 80);
    for (std::size_t k = 1; k < bytes.size(); k += kOpBytes) bytes[k] = 100;  // allocs ...
    bytes[1] = 0, bytes[2] = 1;    // ... after mkdir /a
    bytes[7] = 30, bytes[8] = 1;   // and a task spawned in it
    auto run = run_program(decode_ops(bytes.data(), bytes.size()), spec::Mutant::canary);
    if (!run.failure) continue;
    ++findings;
    std::istringstream in(run.trace_jsonl);
    auto trace = trace::read_trace(in, "finding.jsonl");
    ASSERT_FALSE(trace.error) << trace.error->what();
    EXPECT_EQ(run.failure->message.find("harness bug"), std::string::npos);
  }
  EXPECT_GT(findings, 50u);
}

TEST(OpRunner, RandomProgramsPassOnTheCleanTree) {
  std::mt19937 random(11);
  std::size_t steps = 0;
  for (int i = 0; i < 60; ++i) {
    auto bytes = random_bytes(random, 1 + kOpBytes * 60);
    auto run = run_program(decode_ops(bytes.data(), bytes.size()));
    ASSERT_FALSE(run.failure) << "input " << i << ": " << run.failure->kind << ": "
                              << run.failure->message << "\n" << run.table;
    steps += run.steps;
  }
  EXPECT_GT(steps, 60u * 20);  // a third of random recipes act on something at least
}

TEST(OpRunner, CounterexampleSeedsPassCleanAndKillTheirMutant) {
  const auto dir = kSource / "fuzz/corpus/fuzz_ops";
  std::size_t seeds = 0, impl_mutants = 0;
  for (auto mutant : spec::all_mutants()) {
    // fuzz_ops drives the impl: an overlay (a reference-only profile) has no seed.
    if (!spec::mutant_in_layer(mutant, spec::kLayerImpl)) continue;
    ++impl_mutants;
    const auto path = dir / ("mutant-" + std::string(spec::mutant_name(mutant)));
    if (!std::filesystem::exists(path)) continue;
    ++seeds;
    auto bytes = slurp(path);
    const auto program = decode_ops(bytes.data(), bytes.size());
    EXPECT_FALSE(run_program(program).failure) << path;
    auto found = run_program(program, mutant);
    ASSERT_TRUE(found.failure) << spec::mutant_name(mutant) << " not found by its seed";
    // The finding is a trace that replays to the same failing line.
    std::istringstream in(found.trace_jsonl);
    auto trace = trace::read_trace(in, "finding.jsonl");
    ASSERT_FALSE(trace.error) << trace.error->what();
    auto replayed = trace::replay(trace, trace::ModelChoice::both, mutant);
    std::optional<std::size_t> line;
    if (replayed.model_failure) line = replayed.model_failure->line;
    else if (replayed.disagreement) line = replayed.disagreement->line;
    else if (!replayed.violations.empty()) line = replayed.violations.front().line;
    ASSERT_TRUE(line) << spec::mutant_name(mutant) << ": the finding's trace passes";
    EXPECT_EQ(*line, found.failure->line) << spec::mutant_name(mutant);
    EXPECT_FALSE(trace::replay(trace, trace::ModelChoice::both).exit_code() == 1 &&
                 trace::replay(trace, trace::ModelChoice::both).disagreement)
        << "the clean impl disagrees on the finding of " << spec::mutant_name(mutant);
  }
  EXPECT_EQ(seeds, impl_mutants) << "fuzz_seeds writes one seed per impl mutant";
}

TEST(TraceCheck, ScenariosAndMalformedInputsKeepEveryPromise) {
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "scenarios")) {
    if (entry.path().extension() != ".jsonl") continue;
    auto bytes = slurp(entry.path());
    EXPECT_EQ(check_trace_input(bytes.data(), bytes.size()), "") << entry.path();
  }
  const std::string header = "{\"profile\":\"v6.6\",\"cpus\":2,\"page_size\":4096}\n";
  for (const std::string& text :
       {std::string(), std::string("not json"), std::string("{}"), header + "{\"op\":\"alocc\"}\n",
        header + "{\"op\":\"free\",\"obj\":\"o1\"}\n", header + "[1,2]\n",
        header + "{\"op\":\"mkdir\",\"cg\":\"a\"}\n", std::string("\xef\xbb\xbf") + header})
    EXPECT_EQ(check_text(text), "") << text;
}

TEST(TraceCheck, ABrokenPromiseIsReported) {
  const std::string text = "{\"profile\":\"v6.6\",\"cpus\":2,\"page_size\":4096}\n"
                           "{\"op\":\"mkdir\",\"cg\":\"/a\"}\n";
  std::istringstream in(text);
  const auto trace = trace::read_trace(in, kFuzzTraceFile);
  const auto clean = trace::replay(trace, trace::ModelChoice::both);
  ASSERT_EQ(check_outcome(trace, clean), "");
  auto disagreeing = clean;
  disagreeing.disagreement = trace::Disagreement{2, "cgroups[path=/a].usage_pages: reference 0, impl 1"};
  EXPECT_NE(check_outcome(trace, disagreeing).find("disagree"), std::string::npos);
  auto failed = clean;
  failed.model_failure = trace::ModelFailure{2, "impl", "vector::at"};
  EXPECT_NE(check_outcome(trace, failed).find("model failed"), std::string::npos);
  auto no_line = clean;
  no_line.error = trace::TraceError{kFuzzTraceFile, 0, "read error"};
  EXPECT_NE(check_outcome(trace, no_line).find("without a line"), std::string::npos);
  auto other_file = clean;
  other_file.error = trace::TraceError{"elsewhere.jsonl", 2, "unknown op"};
  EXPECT_NE(check_outcome(trace, other_file).find("FILE:LINE"), std::string::npos);
}

}  // namespace
}  // namespace mv::fuzz
