// memcg-verify replay TRACE [--json] [--model reference|impl|both|kernel|reference,kernel]
//                     [--mutant NAME] [--kernel-src DIR]
// Replays a trace (docs/TRACE_FORMAT.md) and prints the report. Exit status
// (docs/DESIGN.md): 0 every invariant holds, 1 a violation or a model disagreement,
// 2 bad input or usage (`FILE:LINE: reason` on stderr, and the report of
// everything before that line on stdout). `--mutant NAME` injects a bug of
// the catalog (spec/mutant.h) into the impl (impl, both; the reference has
// none; an overlay mutant of a reference-only profile runs in the reference's
// seat: --model reference), e.g. to reproduce `check --mutant` or `mutants` traces;
// `--mutant auto` takes the mutant (and, without --model, the model) from the
// trace header's note, which `check` and `mutants` write
// (properties/failure_trace.h). The kernel model (`kernel`, and
// `reference,kernel` in lock-step) is the kernel's own code of the default
// tree or of `--kernel-src DIR`.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/kernel_options.h"
#include "properties/failure_trace.h"
#include "trace/isolated_replay.h"
#include "trace/replay.h"
#include "trace/report.h"
#include "trace/trace_reader.h"

namespace mv::cli {
namespace {

struct ReplayOptions {
  std::string trace_path;
  bool json = false;
  std::string model = "reference";
  bool model_given = false;  // --model was on the command line
  std::string mutant;
  KernelOptions kernel;
};

// `--mutant auto`: the model and mutant the header note names (check and
// mutants write "...; replay: memcg-verify replay FILE --model M --mutant N").
// An explicit --model wins over the note's; a trace whose note names no
// mutant replays without one.
void resolve_auto(ReplayOptions& options, const trace::Trace& trace) {
  const auto hint = properties::replay_hint(trace.header_note);
  if (!options.model_given && !hint.model.empty()) options.model = hint.model;
  options.mutant = hint.mutant;
  std::cerr << fmt::format("memcg-verify replay: --mutant auto: {} (--model {})\n",
                           hint.mutant.empty() ? std::string("no mutant named in the header note")
                                               : fmt::format("mutant {} from the header note", hint.mutant),
                           options.model);
}

int run_replay(ReplayOptions options) {
  // A file that cannot be opened is an error, not an empty report.
  if (options.trace_path != "-" && !std::ifstream(options.trace_path)) {
    std::cerr << fmt::format("{}: cannot open the trace file: {}\n", options.trace_path,
                             std::strerror(errno));
    return 2;
  }
  std::optional<trace::Trace> auto_trace;
  if (options.mutant == "auto") {
    auto_trace = trace::read_trace_file(options.trace_path);
    resolve_auto(options, *auto_trace);
  }
  auto choice = trace::parse_model_choice(options.model);
  if (!choice) {
    std::cerr << fmt::format("memcg-verify replay: unknown model \"{}\"\n", options.model);
    return 2;
  }
  if (options.kernel.given() && !trace::uses_kernel(*choice)) {
    std::cerr << "memcg-verify replay: --kernel-src needs --model kernel or reference,kernel\n";
    return 2;
  }
  if (trace::uses_impl(*choice) && !trace::impl_available()) {
    std::cerr << fmt::format(
        "memcg-verify replay: --model {} needs the impl model, which this build does not "
        "include (impl/*.cc were absent when CMake configured); use --model reference\n",
        options.model);
    return 2;
  }
  auto mutant = spec::Mutant::none;
  if (!options.mutant.empty()) {
    auto parsed = spec::parse_mutant(options.mutant);
    if (!parsed) {
      std::cerr << fmt::format("memcg-verify replay: unknown mutant \"{}\" (memcg-verify mutants "
                               "--list names them, or auto)\n", options.mutant);
      return 2;
    }
    mutant = *parsed;
  }
  // An overlay (overlay/overlay.h) is the reference of a profile the impl does
  // not model, with one path mutated: it runs in the reference's seat alone.
  const bool overlay = spec::mutant_in_layer(mutant, spec::kLayerOverlay);
  if (mutant != spec::Mutant::none && !overlay && *choice == trace::ModelChoice::reference) {
    std::cerr << "memcg-verify replay: the reference has no mutants (reference/ is the kernel's "
                 "semantics only); a mutant lives in the impl: --model impl or both\n";
    return 2;
  }
  if (overlay && *choice != trace::ModelChoice::reference) {
    std::cerr << fmt::format("memcg-verify replay: mutant {} is an overlay of the reference (its "
                             "profiles have no impl): --model reference\n", options.mutant);
    return 2;
  }
  std::shared_ptr<const kernel::KernelSubject> kernel;
  if (trace::uses_kernel(*choice)) {
    if (mutant != spec::Mutant::none) {
      std::cerr << "memcg-verify replay: a kernel mutant is a patched tree: memcg-verify mutants "
                   "--kernel writes traces that replay with --kernel-src\n";
      return 2;
    }
    kernel = options.kernel.open();
  }
  // A trace read once: stdin cannot be read twice.
  auto trace = auto_trace ? std::move(*auto_trace) : trace::read_trace_file(options.trace_path);
  if (trace.has_config && !spec::mutant_applies(mutant, spec::traits(trace.config.profile))) {
    std::cerr << fmt::format("memcg-verify replay: mutant {} does not change the {} kernel of {} "
                             "(it applies to {})\n",
                             options.mutant, spec::profile_name(trace.config.profile), trace.file,
                             spec::mutant_info(mutant).applies_text);
    return 2;
  }
  if (trace.has_config) {
    // Lock-step on a profile the impl does not model: the reference alone.
    const auto effective = trace::lock_step_or_reference(trace.config.profile, *choice);
    if (effective != *choice)
      std::cerr << fmt::format("profile {}: the impl does not model it; the reference runs alone\n",
                               spec::profile_name(trace.config.profile));
    choice = effective;
  }
  auto report = [&](const trace::ReplayResult& result) {
    if (options.json)
      // Every string in the report is valid UTF-8 (trace/text.h); `replace` is
      // the last resort that keeps the report parseable if one ever is not.
      std::cout << trace::report_json(trace, result).dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace)
                << "\n";
    else if (quiet())
      std::cout << fmt::format("verdict: {}\n", result.verdict());
    else
      std::cout << trace::report_text(trace, result);
    std::cout.flush();
    if (result.error) std::cerr << result.error->what() << "\n";
    if (result.disagreement)
      std::cerr << fmt::format("{}:{}: reference and {} disagree: {}\n", trace.file,
                               result.disagreement->line,
                               *choice == trace::ModelChoice::reference_kernel ? "kernel" : "impl",
                               result.disagreement->message);
    if (result.model_failure)
      std::cerr << fmt::format("{}:{}: the {} model failed: {}\n", trace.file,
                               result.model_failure->line, result.model_failure->model,
                               result.model_failure->message);
    if (result.data_race)
      std::cerr << fmt::format("{}:{}: the {} model has a {}\n", trace.file, result.data_race->line,
                               result.data_race->model, result.data_race->message);
    return result.exit_code();
  };
  // A model that crashes, aborts or loops is a model failure at its line, not
  // a crash of the checker (trace/isolated_replay.h).
  return trace::run_isolated(
      trace,
      [&](const trace::Trace& t, trace::ReplayProgress* progress) {
        return trace::replay(t, *choice, mutant, kernel, progress);
      },
      report, *choice);
}

void add_replay(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand(
      "replay", "Replay a JSON Lines trace, check every invariant after every operation");
  cmd->add_option("TRACE", options->trace_path, "trace file (docs/TRACE_FORMAT.md); - for stdin")
      ->required();
  cmd->add_flag("--json", options->json, "print the JSON report (docs/DESIGN.md) instead of tables");
  auto* model = cmd->add_option("--model", options->model,
                  "reference (default), impl, both (reference and impl in lock-step, compared "
                  "after every operation), kernel (the kernel's own code), or reference,kernel "
                  "(reference and kernel in lock-step)")
      ->check(CLI::IsMember({"reference", "impl", "both", "kernel", "reference,kernel"}));
  cmd->add_option("--mutant", options->mutant,
                  "inject this bug of the mutant catalog (`memcg-verify mutants --list`) into the "
                  "impl (--model impl or both; the reference stays correct), or an overlay "
                  "mutant of a profile without impl in the reference's seat (--model "
                  "reference); auto: the mutant the trace header's note names "
                  "(check and mutants write it), and its model unless --model is given");
  options->kernel.add_to(cmd);
  run_guarded(cmd, exit_code, [options, model] {
    options->model_given = model->count() > 0;
    return run_replay(*options);
  });
}

const CommandRegistration registration(add_replay);

}  // namespace
}  // namespace mv::cli
