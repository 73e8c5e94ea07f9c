// What fuzz_ops runs on one input: the decoded program (fuzz/op_encoding.h)
// on the reference and the impl in lock-step (properties/conformance.h), full
// snapshots compared after every step and every invariant checked on both
// models, exactly as the mutant campaign checks (CheckMode::full, the
// subject's own Monitor on). A failure is written down as a trace that
// `memcg-verify replay --model both [--mutant NAME]` reproduces.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/op_encoding.h"
#include "properties/conformance.h"
#include "spec/mutant.h"

namespace mv::fuzz {

struct OpRunResult {
  std::size_t steps = 0;  // operations applied (recipes with nothing to act on are skipped)
  std::optional<properties::StepFailure> failure;
  std::string trace_jsonl;  // the applied steps, up to the failing one; header note says how to replay
  std::string table;        // properties/failure_trace.h steps_table
  // Which (op kind, result) pairs the run saw: OpKind order, then spec::Errno.
  std::array<std::array<bool, 6>, properties::kNrOpKinds> op_results{};
};

OpRunResult run_program(const OpProgram& program, spec::Mutant mutant = spec::Mutant::none);

// "memcg-verify replay FILE --model both[ --mutant NAME]"
std::string replay_command(const std::string& file, spec::Mutant mutant);

}  // namespace mv::fuzz
