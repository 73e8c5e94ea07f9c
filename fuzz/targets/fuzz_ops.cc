// libFuzzer target, structure-aware: the bytes decode into a configuration
// and operations that refer to existing tasks, objects, CPUs and cgroups by
// index (fuzz/op_encoding.h), run on the reference and the impl in lock-step
// with every invariant as the oracle (fuzz/op_runner.h). A finding is written
// as a trace, fuzz-ops-HASH.jsonl in $MV_FUZZ_OUT (default: the current
// directory), that `memcg-verify replay FILE --model both` reproduces, then
// the target aborts so that libFuzzer keeps the input too.
//
// Environment:
//   MV_FUZZ_MUTANT=NAME   inject a catalogued mutant into the impl (the
//                         teeth test: fuzz_ops must find it)
//   MV_FUZZ_OUT=DIR       where finding traces go
//   MV_FUZZ_NO_MARKS=1    no extra feedback (below), for comparison
//
// Extra feedback: libFuzzer's extra counters (a section it reads as coverage)
// get one feature per (coverage mark, log2 bucket of its hits in the run) and
// per (op kind, result) pair, so an input that reaches a rare model path more
// often, or an op kind with a new errno, counts as new coverage even where
// the edges are the same.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "fuzz/op_encoding.h"
#include "fuzz/op_runner.h"
#include "spec/coverage.h"
#include "spec/mutant.h"

namespace {

constexpr std::size_t kBuckets = 8;
constexpr std::size_t kNrErrnos = 6;
__attribute__((used, section("__libfuzzer_extra_counters")))
std::uint8_t extra_counters[mv::spec::kNrMarks * kBuckets + mv::properties::kNrOpKinds * kNrErrnos];

mv::spec::Mutant g_mutant = mv::spec::Mutant::none;
std::string g_out_dir = ".";
bool g_marks = true;

std::size_t log2_bucket(std::uint64_t n) {
  std::size_t bucket = 0;
  while (n > 1 && bucket + 1 < kBuckets) {
    n >>= 1;
    ++bucket;
  }
  return bucket;
}

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* name = std::getenv("MV_FUZZ_MUTANT"); name && *name) {
    auto mutant = mv::spec::parse_mutant(name);
    if (!mutant) {
      std::fprintf(stderr, "fuzz_ops: unknown mutant \"%s\" (memcg-verify mutants --list)\n", name);
      std::exit(2);
    }
    g_mutant = *mutant;
  }
  if (const char* dir = std::getenv("MV_FUZZ_OUT"); dir && *dir) g_out_dir = dir;
  if (const char* off = std::getenv("MV_FUZZ_NO_MARKS"); off && *off == '1') g_marks = false;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto program = mv::fuzz::decode_ops(data, size);
  const auto marks_before = mv::spec::mark_counts();
  const auto run = mv::fuzz::run_program(program, g_mutant);
  if (g_marks) {
    const auto marks = mv::spec::mark_counts_since(marks_before);
    for (std::size_t m = 0; m < mv::spec::kNrMarks; ++m)
      if (marks[m]) extra_counters[m * kBuckets + log2_bucket(marks[m])] = 1;
    std::uint8_t* pairs = extra_counters + mv::spec::kNrMarks * kBuckets;
    for (std::size_t k = 0; k < run.op_results.size(); ++k)
      for (std::size_t e = 0; e < kNrErrnos; ++e)
        if (run.op_results[k][e]) pairs[k * kNrErrnos + e] = 1;
  }
  if (!run.failure) return 0;
  const auto path = fmt::format("{}/fuzz-ops-{:016x}.jsonl", g_out_dir, fnv1a(data, size));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << run.trace_jsonl;
  std::fprintf(stderr, "fuzz_ops finding: line %zu: %s: %s\n%s", run.failure->line,
               run.failure->kind.c_str(), run.failure->message.c_str(), run.table.c_str());
  std::fprintf(stderr, "trace: %s\nreplay: %s\n", path.c_str(),
               mv::fuzz::replay_command(path, g_mutant).c_str());
  std::abort();
}
