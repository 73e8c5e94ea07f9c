#include "fuzz/op_runner.h"

#include <sstream>

#include <fmt/format.h>

#include "trace/trace_reader.h"

#include "properties/failure_trace.h"

namespace mv::fuzz {

std::string replay_command(const std::string& file, spec::Mutant mutant) {
  return fmt::format("memcg-verify replay {} --model both{}", file,
                     mutant == spec::Mutant::none
                         ? std::string()
                         : fmt::format(" --mutant {}", spec::mutant_name(mutant)));
}

OpRunResult run_program(const OpProgram& program, spec::Mutant mutant) {
  // A mutant that reverts a fix runs on a profile that has the fix.
  spec::Config config = program.config;
  if (auto profile = spec::mutant_profile(mutant, config.profile)) config.profile = *profile;
  properties::Conformance sut(config, properties::impl_factory(mutant), "impl",
                              properties::CheckMode::full);
  sut.monitor_subject = true;
  for (const auto& recipe : program.recipes)
    if (sut.run(recipe)) break;
  OpRunResult result;
  result.steps = sut.steps().size();
  result.failure = sut.failure();
  for (const auto& step : sut.steps())
    result.op_results[step.op.index()][static_cast<std::size_t>(step.reference_result)] = true;
  if (result.failure) {
    result.table = properties::steps_table(sut);
    result.trace_jsonl = properties::trace_jsonl(
        config, sut.names(), sut.steps(),
        fmt::format("fuzz_ops finding ({} at line {}); replay: {}", result.failure->kind,
                    result.failure->line, replay_command("FILE", mutant)));
    // A finding is only one if its trace is a trace: the runner must never
    // apply what the reader refuses.
    std::istringstream in(result.trace_jsonl);
    const auto trace = trace::read_trace(in, "finding.jsonl");
    if (trace.error)
      result.failure->message += fmt::format(
          " [fuzz_ops harness bug: the finding's trace does not read back: {}]", trace.error->what());
  }
  return result;
}

}  // namespace mv::fuzz
